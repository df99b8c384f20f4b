"""Person names that a small NER model misses, found from the words around them.

spaCy's small English model finds most full names in prose but misses first names in
greetings ("Hi Dana,"), speaker labels ("Dana: sure"), sign-offs, titles ("Dr. Osei") and
names it has never seen. Each pattern below is anchored on a cue (a greeting, a title, a
line start followed by a colon, "my name is", "our CFO", "… said") and captures one or two
capitalised words; candidates that are ordinary words, header labels ("Subject:") or
allow-listed business names are dropped. Names found here and by NER are then searched
for everywhere else in the conversation (propagation), so one good cue covers all mentions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from convsignal.scrub.people import COMMON_WORDS, normalise

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
_WORD = (
    rf"(?:[{_UPPER}]['’])?[{_UPPER}][{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?"
    rf"(?:-[{_UPPER}][{_LOWER}]+)?"
)
_PARTICLE = r"(?:van|von|de|der|den|da|di|du|la|le|del|dos|bin|al|ten|ter)"
_NAME = rf"{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)*{_WORD})?"
_ROLE = (
    r"(?:CEO|CFO|COO|CTO|CIO|CRO|CMO|CISO|DPO|VP|SVP|EVP|Head|Director|Chief|[Mm]anager|"
    r"[Ll]ead|[Aa]dmin(?:istrator)?|[Oo]wner|[Cc]hampion|[Ss]ponsor|[Ee]ngineer|[Aa]nalyst|"
    r"[Ss]pecialist|[Ff]ounder|[Pp]resident|[Cc]ounsel|[Cc]olleague|[Bb]oss|[Cc]ontact)"
)
# "the Vanta admin account", "the Drata owner role": a role word that names a thing, not a person.
_ROLE_THING = (
    r"(?i:accounts?|console|panel|page|portal|rights|access|settings|roles?|users?|view|area|"
    r"tools?|permissions?|seat|login|credentials|api)\b"
)
_VERB = (
    r"(?:said|says|asked|asks|thinks|wants|mentioned|confirmed|left|joined|came|runs|handles|"
    r"owns|escalated|built|exported|is leaving|has left|is on leave|is joining|will sign|"
    r"suggested|wrote|replied|reports|approved|signed|agreed|told|needs|knows|ran|set up|"
    r"changed|wired|fixed|shared|decided|reviewed|manages|managed|leads|promised|called|"
    r"emailed|invited|introduced|booked|scheduled|pushed for|"
    r"maintains|maintained|covers for|covered for|inherits|inherited|took over|takes over|"
    r"is taking over|resigned|retired|quit|departed|got promoted|was promoted|prefers|"
    r"believes|feels|felt|worries|expects|hopes|insisted|complained|recommended|proposed|"
    r"is out|is back|is off|was out|will be out|is reconciling|is still reconciling|"
    r"here\b|on (?:our|their|your|his|her|my) (?:side|end)\b|"
    r"(?:on|in|from) (?:our|their|your|the|his|her|my) (?:[a-z]+ )?team\b|"
    r"in (?:engineering|finance|legal|procurement|accounts payable|accounts receivable|IT|"
    r"ops|operations|security|support|sales|marketing|HR|RevOps|product|billing)\b|"
    r"from (?:finance|legal|procurement|IT|engineering|sales|marketing|HR|ops|"
    r"operations|security|support|our|the|your|their|his|her|my))"
)
_CUES = [
    rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame)\.?[ \t]+(?P<name>{_NAME})",
    rf"(?i:\b(?:hi|hello|hey|dear|morning|good (?:morning|afternoon|evening)|thanks|thank you|"
    rf"cheers|sorry|welcome|congrats|congratulations|bye))[ \t]*,?[ \t]+(?P<name>{_NAME})"
    r"(?=[ \t]*(?:[,.!?:;\n]|$))",
    rf"(?im:^[ \t]*(?:best(?: regards| wishes)?|regards|kind regards|warm regards|many thanks|"
    rf"thanks|thank you|cheers|sincerely|yours(?: truly| sincerely)?|talk soon)[,.!]?[ \t]*\n"
    rf"[ \t]*)(?P<name>{_NAME})(?m:[ \t]*$)",
    rf"(?:\A|\n[ \t]*\n)[ \t]*(?P<name>{_NAME})[ \t]*(?:\n[^\n]{{0,60}}){{0,2}}\s*\Z",
    rf"(?m:^[ \t]*(?P<name>{_NAME}),[ \t]*$)",
    rf"(?:\A|\n[ \t]*\n)[ \t]*(?P<name>{_NAME}),",
    rf"(?P<name>{_NAME})[.,;][ \t]+(?:He|She)\b",
    rf"(?P<name>{_NAME}),[ \t]+(?:he|she)[ \t]+(?:is|was|has|had|sits|works|runs|leads|"
    r"owns|said|says|left|joined|will|can)\b",
    # verbs whose object is a person, with the word that follows the person
    rf"(?i:\b(?:walk(?:ed|ing|s)?|talk(?:ed|ing|s)?|take|took))[ \t]+(?P<name>{_NAME})"
    r"[ \t]+(?i:through)\b",
    rf"(?i:\b(?:let|letting|lets))[ \t]+(?P<name>{_NAME})[ \t]+(?i:know)\b",
    rf"(?i:\b(?:give|gave|giving|send|sent|sending|show|showed|tell|told|remind|ping|pinged|"
    rf"thank|thanked|brief|briefed))[ \t]+(?P<name>{_NAME})[ \t]+(?i:the|a|an|access|"
    r"that|this|what|about|on|know|for)\b",
    rf"(?<=[a-z,] )(?P<name>{_NAME})[ \t]+(?:can|could|will|would|is|was|has|had|still|may|"
    r"might|should|must|does|did)\b",
    rf"\((?P<name>{_NAME})\):",
    rf"(?i:\b(?:escalated|opened|reported|raised|requested|approved|signed|sent|written|"
    rf"created|submitted|assigned|forward(?:ed)? it|send it|pass(?:ed)? it|hand(?:ed)? it)"
    rf"[ \t]+(?:by|to))[ \t]+(?P<name>{_NAME})",
    rf"(?m:^[ \t]*(?:\[[\d:]+\][ \t]*)?(?P<name>{_NAME})(?:[ \t]+\([^)\n]{{1,24}}\))?:)",
    rf"(?:^|\s)[-–—]{{1,2}}[ \t]*(?P<name>{_NAME})(?m:[ \t]*$)",
    rf"(?i:\b(?:my name is|name's|this is|i am|i'm|it's|speak(?:ing|s)? (?:to|with)|"
    rf"spoke (?:to|with)|talk(?:ed|ing|s)? (?:to|with)|met with|ask|loop(?:ing)? in|"
    rf"introduce (?:you|me) to|reach out to|attention|"
    rf"attn:?|cc:?|owner to|escalated to|on behalf of|invite for|badge reader for|"
    rf"holder|person:?|reporter:?|requester:?|contact:?|user|account holder))"
    rf"[ \t]+(?P<name>{_NAME})",
    # "Our CFO, Mai Yamaguchi" before "Dana, our CFO": at one position the first cue wins
    rf"\b(?i:our|my|their|the|your)[ \t]+(?:new[ \t]+)?{_ROLE}(?:[ \t]+of[ \t]+\w+)?,?[ \t]+"
    rf"(?P<name>{_NAME})",
    rf"(?P<name>{_NAME}),?[ \t]+(?:(?:our|my|their|the|your)[ \t]+)?(?:new[ \t]+)?{_ROLE}\b"
    rf"(?![ \t]+{_ROLE_THING})",
    rf"(?P<name>{_NAME})[ \t]+{_VERB}",
    rf"(?P<name>{_NAME})['’]s[ \t]+(?:team|boss|manager|account|email|phone|number|role|"
    r"replacement|background|desk|calendar|last day|direct line|username|review|approval|"
    r"sign-off|feedback|decision|question|request|call|vacation|leave|laptop|password|"
    r"notes|analysis|recommendation|proposal|idea|concern|point|view|take|side|office|"
    r"first day|husband|wife|partner|kids|family)\b",
    # coordinated with a personal pronoun: "me or Durodola", "Nathan and I"
    rf"(?i:\b(?:me|him|her|us|them))[ \t]+(?:and|or|&)[ \t]+(?P<name>{_NAME})",
    rf"(?i:\byou)[ \t]+(?:and|or|&)[ \t]+(?P<name>{_NAME})(?:[ \t]*[?!]|[ \t]+(?i:can|could|"
    r"will|would|should|might|may|send|get|put|take|have|are|were)\b)",
    rf"(?P<name>{_NAME})[ \t]+(?:and|or)[ \t]+(?:I|me|myself)\b",
    # what only a person sends or gives: "a note from Sean", "Reply from Georgina:"
    rf"(?i:\b(?:note|reply|comment|request|feedback|approval|sign-off|intro|introduction|"
    rf"word|go-ahead|answer|response|question|complaint|voicemail)s?)[ \t]+from[ \t]+"
    rf"(?P<name>{_NAME})",
    # working with a person: "check with Heriberto", "hand off to Faras Barad"
    rf"(?i:\b(?:check(?:ed|ing|s)?|confirm(?:ed|ing|s)?|coordinat(?:e|ed|es|ing)|"
    rf"follow(?:ed|ing|s)?[ \t]+up|catch(?:ing)?[ \t]+up|caught[ \t]+up|sync(?:ed|ing)?[ \t]+up)"
    rf"[ \t]+with)[ \t]+(?P<name>{_NAME})",
    rf"(?i:\b(?:hand(?:ed|ing|s)?[- ]?off|handoff|hand(?:ed|ing|s)?[ \t]+over|"
    rf"escalat(?:e|es|ing)|introduc(?:e|ed|ing)[ \t]+(?:you|them|him|her))[ \t]+to)[ \t]+"
    rf"(?P<name>{_NAME})",
    rf"(?i:\b(?:verified|led|reviewed|prepared|checked|confirmed|authori[sz]ed|countersigned|"
    rf"presented|chaired)[ \t]+by)[ \t]+(?P<name>{_NAME})",
    # an email that opens "Nela —"
    rf"(?:\A|\n[ \t]*\n)[ \t]*(?P<name>{_NAME})[ \t]*[—–](?m:[ \t]*$)",
    rf"(?i:\bowner):?[ \t]+(?P<name>{_NAME})(?![ \t]+{_ROLE_THING})",
]
# A header that lists people: "Admins: Eliza Wojtaszak, Judy Déadaigh, Ira Zobel".
_PEOPLE_HEADER = re.compile(
    r"(?im:^[ \t]*(?:[-*•][ \t]*)?(?:admins?|owners?|attendees|participants|contacts?|"
    r"stakeholders|champions?|sponsors?|approvers?|reviewers?|signers?|people|present|"
    r"decision[ -]makers?)[ \t]*:[ \t]*)"
)
_PEOPLE_LIST_WORD = re.compile(_NAME)
# Where a lone capitalised word is used as a product, not a person: the object of a
# migration, an installation or an export, or followed by a product noun ("Our Vanta sync",
# "after Drata rotated the certificate"). People are rarely the object of these verbs.
# Deliberately absent: verbs people are objects of too ("went through", "came from",
# "talked to", "rely on … for").
_PRODUCT_BEFORE = (
    r"(?i:\b(?:(?:moved|moving|migrated|migrating|switched|switching|upgraded|upgrading|"
    r"export(?:ed|ing|s)?|import(?:ed|ing|s)?|push(?:ed|es)?|sync(?:ed|ing|s)?|"
    r"connect(?:ed|ing|s)?(?:[ \t]+it)?|integrat(?:e|ed|es|ing)(?:[ \t]+with)?)[ \t]+"
    r"(?:to|into|from|with)"
    r"|(?:pull(?:ed|ing|s)?|load(?:ed|ing|s)?|feed(?:s|ing)?|fed|pip(?:e|ed|es|ing))"
    r"(?:[ \t]+\w+)?[ \t]+(?:into|to)"
    r"|(?:provision(?:ed|ing|s)?|webhooks?)[ \t]+(?:to|into|from|via)"
    r"|cancel(?:l?ed|l?ing|s)?|integrated|uninstall(?:ed|ing)?|"
    r"install(?:ed|ing)?|deploy(?:ed|ing)?|renew(?:ed|ing)?|replac(?:e|ed|ing)|"
    r"licen[cs]e[ds]?|licen[cs]es[ \t]+for|subscription[ \t]+to|rolled[ \t]+out|"
    r"implement(?:ed|ing)?|"
    # trying, buying and dropping tools: people are rarely piloted or trialled
    r"pilot(?:ed|ing|s)?|trial(?:l?ed|l?ing|s)?|evaluat(?:e|ed|es|ing)|demo(?:ed|ing|s)?|"
    r"purchas(?:e|ed|es|ing)|adopt(?:ed|ing|s)?|sunset(?:ting|s)?|"
    r"(?:rip(?:ped|ping|s)?|phas(?:e|ed|ing))[ \t]+out|"
    r"(?:got|get(?:ting)?|mov(?:e|ed|ing))[ \t]+off|"
    r"churn(?:ed|ing)?[ \t]+(?:from|off)|"
    # where someone worked: "joins us from Modjo", "a job at Loopio"
    r"(?:join(?:s|ed|ing)?(?:[ \t]+us)?|came[ \t]+over|com(?:es|ing)[ \t]+over|moved[ \t]+over)"
    r"[ \t]+from|(?:a[ \t]+job|(?:a|her|his|their)[ \t]+(?:role|position|stint)|"
    r"works|worked|working)[ \t]+at|"
    # signing in through a tool
    r"(?:log[- ]?ins?|sign[- ]?(?:ins?|ons?)|SSO|single[ \t]+sign-on|authenticat\w*)"
    r"(?:[ \t]*:)?[ \t]+(?:through|via|with)))[ \t]+"
)
_PRODUCT_AFTER = (
    # No possessive: "Dana's dashboard" is a person's dashboard far more often than not.
    r"[ \t]+(?i:sync|syncs|connector|integration|instance|workspace|tenant|plugin|"
    r"add-on|account|"
    r"api|webhooks?|export|import|licen[cs]es?|subscription|migration|outage|"
    r"rotated|certificate|dashboard|admin[ \t]+(?:console|account|panel|portal|settings)|"
    r"support[ \t]+(?:says|said|team|ticket|confirmed|told|replied|is|was)|"
    r"(?:is|was)[ \t]+(?:now[ \t]+)?(?:our|the|their)[ \t]+(?:system[ \t]+of[ \t]+record|"
    r"source[ \t]+of[ \t]+truth|(?:main[ \t]+|only[ \t]+)?(?:tool|platform|app|vendor|"
    r"provider)(?![ \t]+(?:contact|manager|admin|owner|lead|rep|champion))))\b"
)
# After a product cue, a list names products too: "integrate with Census and Cledara".
_PRODUCT_LIST = rf"{_WORD}(?:(?:,[ \t]*|[ \t]+(?:and|or|&)[ \t]+|,[ \t]+(?:and|or)[ \t]+){_WORD})*"
# A list that ends in "and your tool": "Clay, Dovetail and your tool all do surveys".
_PRODUCT_LIST_END = (
    r",?[ \t]+(?:and|or)[ \t]+(?:your|our|their|the other|other)[ \t]+"
    r"(?:tools?|products?|platforms?|apps?|systems?|vendors?)\b"
)
_PRODUCT_RE = re.compile(
    rf"(?:{_PRODUCT_BEFORE})(?P<a>{_PRODUCT_LIST})(?![\w'’-])(?![ \t]+{_WORD})"
    rf"|(?<![\w'’-])(?P<b>{_WORD}){_PRODUCT_AFTER}"
    # a possessive only with what no person has: "Mindtickle's API", "Nooks's webhook"
    rf"|(?<![\w'’-])(?P<c>{_WORD})['’]s[ \t]+(?:APIs?|webhooks?|SDK|connector|endpoints?|"
    r"status[ \t]+page|outage|docs|documentation|servers?|uptime)\b"
    r"(?![ \t]+(?i:keys?|tokens?|credentials?|secrets?|access|user|account|login))"
)
# Found from its end, in a bounded window before it: a list matched forward from every
# capitalised word would cost quadratic time on a long comma-separated run (a pasted CSV).
_LIST_END_RE = re.compile(_PRODUCT_LIST_END)
_LIST_BEFORE_END = re.compile(rf"(?<![\w'’-])(?:{_PRODUCT_LIST})\Z")
_LIST_WINDOW = 200
_LIST_WORD = re.compile(_WORD)
# A candidate span is cut at line breaks and at punctuation between words: NER sometimes
# runs "Steven Curry: Idika" (a speaker label and a mention) into one entity.
_PART = re.compile(r"[^\n:;!?()\[\]]+")
_TOKEN = re.compile(r"[^\s,;:]+")


# One pass over the text: each cue's name group gets its own name (n0, n1, …); the
# lookahead consumes nothing, so cues overlapping each other are all found. At one position
# the first cue that matches wins. The cues that start with a word sit behind one check for
# a word start, those that start at a name behind one for a capital there: most positions
# (inside words) fail once, not once per cue.
def _cue_pattern(cues: list[str]) -> str:
    named = [f"(?:{cue})".replace("?P<name>", f"?P<n{i}>") for i, cue in enumerate(cues)]
    at_name = [c for c, cue in zip(named, cues, strict=True) if cue.startswith("(?P<name>")]
    at_word = [
        c
        for c, cue in zip(named, cues, strict=True)
        if cue.startswith((r"\b", r"(?i:\b", r"(?<=[a-z,] )"))
    ]
    rest = [c for c in named if c not in at_name and c not in at_word]
    return (  # a cue word first: at "Our CFO, Mai" the name is after it, not "Our"
        rf"(?=(?<!\w)(?:{'|'.join(at_word)})"
        rf"|(?<![\w'’])(?=[{_UPPER}])(?:{'|'.join(at_name)})"
        rf"|{'|'.join(rest)})"
    )


_CUE_RE = re.compile(_cue_pattern(_CUES))

ORG_WORDS = frozenset(
    str.split(
        "inc llc ltd plc gmbh ag sa bv corp corporation co company group partners sons holdings "
        "labs logistics retail foods insurance learning manufacturing energy mobility analytics "
        "media health bank capital ventures solutions systems technologies software consulting"
    )
)
_ORG_FOLLOWS = re.compile(
    r"[ \t]*(?:,[ \t]*)?(?:&|and)?[ \t]*(?:" + "|".join(sorted(ORG_WORDS)) + r")\b\.?"
)

NOT_NAMES = frozenset(
    str.split(
        "subject from to cc bcc re fwd ticket customer agent visitor details description issue "
        "reason priority status address phone email contact requester reporter shipping internal "
        "note notes summary update date time attendees action next question answer chat user "
        "admin support billing escalation refund resolution team all everyone folks guys there "
        "finance legal procurement engineering marketing sales security operations product design "
        "data management leadership nobody somebody someone everybody anyone good great sure yes "
        "yeah okay thanks thank hello hi hey dear morning afternoon evening welcome sorry best "
        "oh ah ahh uh um hmm ok well right plus anyway called calling emailed texted pinged "
        "phoned rang messaged contacted reached tried caller "
        "regards cheers monday tuesday wednesday thursday friday saturday sunday january february "
        "march april may june july august september october november december today tomorrow "
        "yesterday our your their the this that these those it we they he she you and but also "
        "just please quick honestly actually traffic procurement renewal invoice payment ceo cfo "
        "coo cto vp head director chief manager lead owner qbr ebr api sso csv pdf sla kpi new "
        "old one two three first last agent customer transcript request feature export import "
        "allowlist whitelist outage incident account workspace dashboard report reports "
        "attention attn mr mrs ms dr prof sir madam hr it ops reply comment message response "
        "perfect right absolutely exactly understood agreed true truly second third finally "
        "well so alright fine awesome wonderful excellent lovely brilliant noted correct "
        "indeed yep nope fair cool nice totally definitely certainly got"
    )
)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def context_names(text: str, allow: set[str]) -> Iterator[tuple[int, int]]:
    """(start, end) of each name found by a cue; cheap when no cue is present."""
    for match in _CUE_RE.finditer(text):
        if match.lastgroup is not None:
            start, end = match.span(match.lastgroup)
            yield from clean_name(text, start, end, allow)
    for header in _PEOPLE_HEADER.finditer(text):
        line_end = text.find("\n", header.end())
        line_end = len(text) if line_end < 0 else line_end
        for name in _PEOPLE_LIST_WORD.finditer(text, header.end(), line_end):
            yield from clean_name(text, *name.span(), allow)


# A name right before its owner's contact data: "Adelia (acanovas@…)", "Tobiasz Ellwart,
# born 02.01.1984", "call Ajani on +31 …". Anchored at the end of the text before the data.
_BEFORE_PERSONAL = re.compile(
    rf"(?<![\w'’-])(?P<name>{_NAME})(?:[ \t]*\([ \t]*|,[ \t]+(?i:born|date[ \t]+of[ \t]+birth|"
    rf"dob|d\.o\.b\.|ssn|social[ \t]+security[ \t]+(?:number|no\.?)|phone|tel\.?|mobile|"
    rf"cell|e-?mail)[ \t]*:?[ \t]*|[ \t]+(?:on|at)[ \t]+)\Z"
)
_PERSONAL_WINDOW = 80


def owner_of(text: str, start: int, allow: set[str]) -> Iterator[tuple[int, int]]:
    """The name written right before personal data that starts at `start`."""
    match = _BEFORE_PERSONAL.search(text, max(0, start - _PERSONAL_WINDOW), start)
    if match is not None:
        yield from clean_name(text, *match.span("name"), allow)


# A run of names, matched greedily (linear on a pasted CSV); it counts as a list only with a
# conjunction ("A and B", "A, B or C"): commas alone also join a name and its title
# ("Corona Íosóg, Chief Revenue Officer") or a street and its town.
_COORDINATION = re.compile(rf"{_NAME}(?:(?:[ \t]*,[ \t]*|,?[ \t]+(?:and|or|&)[ \t]+){_NAME})+")
_CONJUNCTION = re.compile(r"[ \t](?:and|or|&)[ \t]")


def coordinated(text: str, known: set[str], allow: set[str]) -> Iterator[tuple[int, int]]:
    """Names listed with a name already found ("to Guiying and Victoria", "Anne, Marie or
    Joe"): people are listed with people. `known` holds normalised names."""
    if not _CONJUNCTION.search(text):  # most texts list nothing: one cheap scan
        return
    for run in _COORDINATION.finditer(text):
        if not _CONJUNCTION.search(run.group()):
            continue
        members = [m.span() for m in _PEOPLE_LIST_WORD.finditer(run.group())]
        values = [normalise(run.group()[a:b]) for a, b in members]
        if not any(value in known for value in values):
            continue
        for (a, b), value in zip(members, values, strict=True):
            if value not in known:
                yield from clean_name(text, run.start() + a, run.start() + b, allow)


# Names with an inner capital: McKenzie, MacLeod, O'Brien, DeShawn, LaToya, VanDyke, and
# joined first names: JoAnn, MaryBeth, AnnMarie, BillyJo …
_NAME_PREFIX = re.compile(
    r"(?:Mc|Mac|O['’]|D['’]|De|Di|Da|Du|La|Le|Van|Von|St|Fitz|Jo|Mary|Ann|Anne|Anna|Lou|Lee|"
    r"Ray|Rae|Sue|Kay|Beth|Bobbi|Billy|Billie|Jean|Jay|Mae|Mari|Rose)[A-Z]"
)
_INNER_CAPITAL = re.compile(rf"[{_UPPER}][{_LOWER}]+[{_UPPER}]")


def product_shaped(word: str) -> bool:
    """A single word with a capital inside it (FullStory, DealHub, PostHog), other than
    the prefixes of family names (McKenzie, DeShawn, O'Brien): a product's shape, not a
    person's. NER's lone-word PERSON candidates of this shape are kept."""
    return bool(_INNER_CAPITAL.match(word)) and not _NAME_PREFIX.match(word)


# Tools are listed and compared with tools: "Mixpanel, Claap and you", "trialling Walnut
# alongside Totango", "Planhat versus Nooks".
_BUSINESS_RUN = re.compile(
    rf"{_WORD}(?:(?:[ \t]*,[ \t]*|,?[ \t]+(?:and|or|&|alongside|versus|vs\.?)[ \t]+)"
    rf"{_WORD})+"
)


def listed_with_business(text: str, allow: set[str]) -> set[tuple[int, int]]:
    """(start, end) of each lone capitalised word listed or compared with an allow-listed
    business name (a known vendor, competitor or the account): a product, not a person.
    The detector uses it like `product_words`: only NER's lone-word guesses give way."""
    found: set[tuple[int, int]] = set()
    if not allow:
        return found
    for run in _BUSINESS_RUN.finditer(text):
        words = [m.span() for m in _LIST_WORD.finditer(text, *run.span())]
        if any(normalise(text[a:b]) in allow for a, b in words):
            found.update(words)
    return found


def product_words(text: str) -> set[tuple[int, int]]:
    """(start, end) of each lone capitalised word used as a product name (see _PRODUCT_RE).

    The detector drops a NER-only PERSON that is exactly one of these words. Anything with
    other evidence of a person (a participant, a cue such as "Dana said", the same name
    found elsewhere in the conversation) is still scrubbed: those paths do not look here."""
    found = set()
    for match in _PRODUCT_RE.finditer(text):
        for lone in ("b", "c"):
            if match.group(lone) is not None:
                found.add(match.span(lone))
                break
        else:
            start, end = match.span("a")
            found.update(m.span() for m in _LIST_WORD.finditer(text, start, end))
    for ending in _LIST_END_RE.finditer(text):
        offset = max(0, ending.start() - _LIST_WINDOW)
        listed = _LIST_BEFORE_END.search(text, offset, ending.start())
        if listed is not None:
            found.update(m.span() for m in _LIST_WORD.finditer(text, *listed.span()))
    return found


# Local parts that name a mailbox, not a person: support@, billing@, no-reply@ …
_MAILBOX_WORDS = frozenset(
    str.split(
        "support billing info sales admin team hello noreply no reply contact help office "
        "accounts account finance hr jobs careers press security it ops service services mail "
        "marketing legal privacy abuse postmaster webmaster notifications alerts invoices "
        "invoice ap ar payments payroll orders success cs customer customers feedback partners "
        "partner procurement purchasing reception enquiries inquiries news newsletter bounce "
        "devops engineering dev test demo user users helpdesk servicedesk desk"
    )
)


def email_name(address: str, allow: set[str]) -> str | None:
    """The person an address spells ('urvi.ramaswamy@…' → 'Urvi Ramaswamy'), or None.

    The scrubber searches the conversation for it like any name it found, so "Urvi
    Ramaswamy. Her email's urvi.ramaswamy@…" loses the name even where NER and the cues
    missed it. Mailbox addresses (support@, billing@) and parts that are ordinary words,
    initials or allow-listed names give nothing."""
    local = address.split("@", 1)[0].lower()
    parts = [part.rstrip("0123456789") for part in re.split(r"[._+-]+", local)]
    if any(part in _MAILBOX_WORDS for part in parts):
        return None
    words = [
        part.capitalize()
        for part in parts
        if len(part) >= 3
        and part.isalpha()
        and part not in COMMON_WORDS
        and part not in NOT_NAMES
        and part not in _stop_words()
        and normalise(part) not in allow
    ]
    return " ".join(words) or None


def clean_name(text: str, start: int, end: int, allow: set[str]) -> Iterator[tuple[int, int]]:
    """The name(s) inside a candidate span (from NER or a cue): cut at line breaks and
    punctuation, ordinary, business and header words trimmed off both ends; nothing when it
    names a company."""
    for line in _PART.finditer(text, start, end):
        words = [m.span() for m in _TOKEN.finditer(text, line.start(), line.end())]
        if any(normalise(text[s:e].strip(".'’\"()!?")) in allow for s, e in words):
            continue  # 'BrightMetrics Customer Success': a business phrase, not a name
        while words and not _name_word(text[words[0][0] : words[0][1]], allow):
            words.pop(0)
        while words and not _name_word(text[words[-1][0] : words[-1][1]], allow):
            words.pop()
        if not words or normalise(text[words[0][0] : words[-1][1]]) in allow:
            continue
        following = text[words[-1][1] : words[-1][1] + 24].lower()
        last_word = text[words[-1][0] : words[-1][1]].lower()
        if last_word in ORG_WORDS or _ORG_FOLLOWS.match(following):
            continue
        yield words[0][0], words[-1][1]


def _name_word(word: str, allow: set[str]) -> bool:
    word = word.strip(".'’\"()[]!?")
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    lowered = word.lower()
    return (
        len(word) >= 2
        and word[0].isupper()
        and not word.isupper()
        and not any(c.isdigit() for c in word)
        and lowered not in NOT_NAMES
        and lowered not in _stop_words()
        and lowered not in allow
    )
