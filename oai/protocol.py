"""What an OAI-PMH 2.0 request may say, and what is wrong with it when it says something else.

Each verb's arguments are checked as section 3.1 of the protocol asks: an illegal or repeated verb is badVerb; a
missing, illegal or repeated argument, or a malformed date, is badArgument; a resumptionToken is exclusive. Resumption
tokens are signed with the site's secret key, so a token the archive did not issue, or one changed on the way, is
badResumptionToken, never an error page.
"""

import dataclasses
import datetime
import re

from django.core import signing

METADATA_PREFIX = "oai_dc"
PAGE_SIZE = 100
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"

REQUIRED, OPTIONAL, EXCLUSIVE = "required", "optional", "exclusive"
VERBS = {
    "Identify": {},
    "ListMetadataFormats": {"identifier": OPTIONAL},
    "ListSets": {"resumptionToken": EXCLUSIVE},
    "GetRecord": {"identifier": REQUIRED, "metadataPrefix": REQUIRED},
    "ListIdentifiers": {
        "metadataPrefix": REQUIRED,
        "from": OPTIONAL,
        "until": OPTIONAL,
        "set": OPTIONAL,
        "resumptionToken": EXCLUSIVE,
    },
}
VERBS["ListRecords"] = VERBS["ListIdentifiers"]

# The protocol's own syntax for a metadata prefix and a set spec (OAI-PMH.xsd, metadataPrefixType and setSpecType).
_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_TOKEN_SALT = "oai.resumption-token"


class ProtocolError(Exception):
    """An OAI-PMH error condition: `code` is one of the protocol's error codes, the message says why in words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class Selection:
    """What a list request selects: the format, the set and the datestamp bounds (inclusive from, exclusive until)."""

    metadata_prefix: str
    set_spec: str = ""
    from_text: str = ""
    until_text: str = ""

    @property
    def from_time(self) -> datetime.datetime | None:
        return parse_datestamp(self.from_text) if self.from_text else None

    @property
    def until_before(self) -> datetime.datetime | None:
        """The first moment past `until`: a datestamp shown to the second, or a day, is inside it until then."""
        if not self.until_text:
            return None
        step = datetime.timedelta(days=1) if _DAY.match(self.until_text) else datetime.timedelta(seconds=1)
        try:
            return parse_datestamp(self.until_text) + step
        except OverflowError:  # until the last second of year 9999: no bound at all
            return None


@dataclasses.dataclass(frozen=True)
class Position:
    """Where a list stopped: the last record sent (its stored change time and story id) and how many were sent."""

    changed_at: datetime.datetime
    story_id: int
    cursor: int


@dataclasses.dataclass(frozen=True)
class OaiRequest:
    verb: str
    arguments: dict[str, str]
    selection: Selection | None = None
    position: Position | None = None


def parse_request(query) -> OaiRequest:
    """Check a request's arguments (a QueryDict) and return what it asks; raise ProtocolError if it cannot be asked."""
    verbs = query.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise ProtocolError("badVerb", "The verb is missing, repeated or not one of the six OAI-PMH verbs.")
    verb = verbs[0]
    allowed = VERBS[verb]
    arguments = {}
    for name in query:
        if name == "verb":
            continue
        if name not in allowed:
            raise ProtocolError("badArgument", f"{verb} does not take the argument {name!r}.")
        values = query.getlist(name)
        if len(values) != 1:
            raise ProtocolError("badArgument", f"The argument {name!r} is repeated.")
        arguments[name] = values[0]
    if "resumptionToken" in arguments:
        if len(arguments) > 1:
            raise ProtocolError("badArgument", "resumptionToken is exclusive: send it with the verb alone.")
        return OaiRequest(verb, arguments, *read_token(arguments["resumptionToken"], verb=verb))
    missing = [name for name, kind in allowed.items() if kind == REQUIRED and name not in arguments]
    if missing:
        raise ProtocolError("badArgument", f"{verb} needs the argument {missing[0]!r}.")
    if "metadataPrefix" in arguments and not _PREFIX.match(arguments["metadataPrefix"]):
        raise ProtocolError("badArgument", "metadataPrefix holds characters no metadata prefix may have.")
    if "set" in arguments and not _SET_SPEC.match(arguments["set"]):
        raise ProtocolError("badArgument", "set is not written as a setSpec (words joined by colons).")
    selection = None
    if verb in ("ListIdentifiers", "ListRecords"):
        selection = Selection(
            metadata_prefix=arguments["metadataPrefix"],
            set_spec=arguments.get("set", ""),
            from_text=arguments.get("from", ""),
            until_text=arguments.get("until", ""),
        )
        check_dates(selection)
    return OaiRequest(verb, arguments, selection)


def check_dates(selection: Selection) -> None:
    for name, text in (("from", selection.from_text), ("until", selection.until_text)):
        if text and not (_DAY.match(text) or _SECOND.match(text)):
            raise ProtocolError(
                "badArgument", f"{name} must be a UTC date (YYYY-MM-DD) or time (YYYY-MM-DDThh:mm:ssZ)."
            )
        if text:
            try:
                parse_datestamp(text)
            except ValueError as error:
                raise ProtocolError("badArgument", f"{name} is not a real date: {text}.") from error
    if selection.from_text and selection.until_text:
        if len(selection.from_text) != len(selection.until_text):
            raise ProtocolError("badArgument", "from and until must have the same granularity.")
        if selection.from_text > selection.until_text:
            raise ProtocolError("badArgument", "from is later than until.")


def parse_datestamp(text: str) -> datetime.datetime:
    if _DAY.match(text):
        day = datetime.date.fromisoformat(text)
        return datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC)
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


def datestamp(moment: datetime.datetime) -> str:
    """A moment as OAI-PMH writes it: UTC, to the second."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_token(*, verb: str, selection: Selection, position: Position) -> str:
    """A signed resumption token: the request's selection and where the list stopped, nothing else."""
    payload = {
        "v": verb,
        "m": selection.metadata_prefix,
        "s": selection.set_spec,
        "f": selection.from_text,
        "u": selection.until_text,
        "t": position.changed_at.astimezone(datetime.UTC).isoformat(),
        "i": position.story_id,
        "c": position.cursor,
    }
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def read_token(token: str, *, verb: str) -> tuple[Selection, Position]:
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
        if payload["v"] != verb:
            raise ValueError("issued for another verb")
        selection = Selection(
            metadata_prefix=str(payload["m"]),
            set_spec=str(payload["s"]),
            from_text=str(payload["f"]),
            until_text=str(payload["u"]),
        )
        position = Position(
            changed_at=datetime.datetime.fromisoformat(payload["t"]),
            story_id=int(payload["i"]),
            cursor=int(payload["c"]),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise ProtocolError(
            "badResumptionToken", "This resumption token was not issued here or has been changed."
        ) from error
    return selection, position
