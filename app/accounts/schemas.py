"""Form schemas: what each accounts form accepts, with one plain-language message per field.

Every field defaults to "" so a missing field is reported like an empty one (a 422 with a field
error, never a 500). Text is trimmed and control characters are refused (PostgreSQL rejects
NUL, and nothing legitimate needs them).
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError

from app.accounts.models import ROLE_VALUES
from app.security import MAX_PASSWORD_LENGTH, password_problem

M = TypeVar("M", bound=BaseModel)

EMAIL_MAX = 254
NAME_MAX = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_email(value: str) -> str:
    """The normalised (trimmed, lower-case) email, or ValueError with a message for the form."""
    value = value.strip()
    if not value:
        raise ValueError("Enter your email address.")
    if len(value) > EMAIL_MAX:
        raise ValueError(f"Use at most {EMAIL_MAX} characters.")
    if _CONTROL.search(value) or not _EMAIL.match(value):
        raise ValueError("Enter an email address like name@example.com.")
    return value.lower()


def clean_name(value: str, *, what: str, required: bool = True) -> str:
    value = value.strip()
    if not value and required:
        raise ValueError(f"Enter {what}.")
    if len(value) > NAME_MAX:
        raise ValueError(f"Use at most {NAME_MAX} characters.")
    if _CONTROL.search(value):
        raise ValueError("Remove the control characters.")
    return value


def new_password(value: str) -> str:
    if not value:
        raise ValueError("Choose a password.")
    problem = password_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def given_password(value: str) -> str:
    if not value:
        raise ValueError("Enter your password.")
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValueError("That password is too long.")
    return value


def _required_name(what: str) -> AfterValidator:
    return AfterValidator(lambda v: clean_name(v, what=what))


Email = Annotated[str, AfterValidator(clean_email)]
NewPassword = Annotated[str, AfterValidator(new_password)]
GivenPassword = Annotated[str, AfterValidator(given_password)]
DisplayName = Annotated[str, AfterValidator(lambda v: clean_name(v, what="", required=False))]
OrgName = Annotated[str, _required_name("a name for the organisation")]


class Form(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, validate_default=True)


class SignUpForm(Form):
    email: Email = ""
    password: NewPassword = ""
    org_name: OrgName = ""
    display_name: DisplayName = ""


class SignInForm(Form):
    email: Email = ""
    password: GivenPassword = ""


class EmailForm(Form):
    email: Email = ""


class NewPasswordForm(Form):
    password: NewPassword = ""


class ProfileForm(Form):
    display_name: DisplayName = ""


class ChangePasswordForm(Form):
    current_password: str = ""  # checked by the service (users of an identity provider have none)
    new_password: NewPassword = ""


# How often an organisation's clusters are scanned on schedule: (hours, label).
SCAN_INTERVALS: tuple[tuple[int, str], ...] = (
    (1, "Every hour"),
    (6, "Every 6 hours"),
    (12, "Every 12 hours"),
    (24, "Daily"),
    (48, "Every 2 days"),
    (168, "Weekly"),
)


def check_scan_interval(value: object) -> int:
    try:
        hours = int(str(value))
    except ValueError:
        hours = 0
    if hours not in {h for h, _ in SCAN_INTERVALS}:
        raise ValueError("Choose one of the listed intervals.")
    return hours


class OrgForm(Form):
    name: OrgName = ""
    scan_interval_hours: Annotated[int, BeforeValidator(check_scan_interval)] = 24


class InviteForm(Form):
    email: Email = ""
    role: Annotated[str, AfterValidator(lambda v: check_role(v))] = ""


class RoleForm(Form):
    role: Annotated[str, AfterValidator(lambda v: check_role(v))] = ""


class AcceptInvitationForm(Form):
    display_name: DisplayName = ""
    password: NewPassword = ""


def check_role(value: str) -> str:
    if value not in ROLE_VALUES:
        raise ValueError("Choose one of the roles listed.")
    return value


def parse_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except (ValueError, AttributeError):
        return None


def parse_form(model: type[M], data: dict[str, str]) -> tuple[M | None, dict[str, str]]:
    """The validated form, or None and one error message per field name."""
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "__all__"
            errors.setdefault(field, _message(error))
        return None, errors


def _message(error: Any) -> str:
    msg = str(error.get("msg", "Check this field."))
    return msg.removeprefix("Value error, ")
