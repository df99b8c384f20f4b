"""Business software that customers name in calls, emails and tickets: kept, never scrubbed.

"We're moving billing to Chargebee", "SSO goes through Okta", "the Workday sync broke":
the vendor carries the business meaning (a migration, a dependency, an integration risk).
spaCy's small model often tags a one-word product name as a PERSON, so the scrubber keeps
these names whatever NER says, as it keeps the allow-list (they are part of it by default;
`CONVSIGNAL_ALLOW_LIST` replaces the whole default, `CONVSIGNAL_EXTRA_ALLOW_LIST` adds).

Chosen by category (CRM, support, billing and finance, HR, identity, data and analytics,
engineering, collaboration, marketing, communications), widely used products only. Left out
on purpose: names that are also people's first or last names ("Sage", "Lever", "Miro",
"Apollo", "Clari") or everyday words ("Box", "Front", "Close", "Segment", "Drift",
"Census"): an allow-listed word is never scrubbed, so "Sage Miller" would keep "Sage".
The PII evaluation set's "unlisted" names (eval/pii/generate.py) are long-tail products
deliberately absent from this list, so that the figure stays a measure of names nobody listed.
"""

from __future__ import annotations

KNOWN_VENDORS: tuple[str, ...] = (
    # platforms and clouds
    "Microsoft", "Google", "Oracle", "SAP", "Adobe", "IBM", "AWS", "Azure", "Atlassian",
    "Intuit", "Zoho", "Freshworks",
    # CRM, sales and revenue
    "Pipedrive", "Outreach", "Salesloft", "ZoomInfo", "Highspot", "Seismic", "DocuSign",
    "PandaDoc", "Ironclad", "Chorus",
    # support and service
    "ServiceNow", "Freshservice", "Help Scout", "Kustomer", "Gorgias", "Gladly",
    # billing, payments and finance
    "Stripe", "Adyen", "Chargebee", "Recurly", "Zuora", "Paddle", "Avalara", "NetSuite",
    "QuickBooks", "Xero", "Coupa", "Ariba", "Bill.com",
    # HR and recruiting
    "Workday", "BambooHR", "ADP", "Gusto", "Rippling", "Deel", "Greenhouse", "Workable",
    # identity and security
    "Auth0", "OneLogin", "Ping Identity", "JumpCloud", "CyberArk", "CrowdStrike",
    # data, analytics and BI
    "Power BI", "Google Sheets", "Excel", "BigQuery", "Redshift", "Databricks", "MongoDB",
    "Fivetran", "Tealium", "Qualtrics", "Medallia", "SurveyMonkey", "Typeform",
    # engineering and operations
    "GitHub", "GitLab", "Bitbucket", "Confluence", "Datadog", "PagerDuty", "Splunk",
    "New Relic", "Dynatrace", "Grafana", "Opsgenie", "Statuspage",
    # collaboration and work management
    "Asana", "Notion", "Trello", "ClickUp", "Smartsheet", "Airtable", "Figma", "Canva",
    "Dropbox", "Egnyte", "Calendly", "Loom", "Webex", "Google Meet",
    # integration
    "Zapier", "Workato", "MuleSoft", "Boomi",
    # marketing and messaging
    "Marketo", "Pardot", "Eloqua", "Mailchimp", "Klaviyo", "Braze", "Iterable", "Twilio",
    "SendGrid", "RingCentral", "Aircall", "Dialpad", "Vidyard", "Wistia",
    # commerce
    "Shopify", "BigCommerce", "Magento", "WooCommerce",
)  # fmt: skip
