"""The scorer API the CS platform calls (FastAPI): scores, accounts, jobs, webhooks."""
