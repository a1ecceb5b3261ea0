"""Password hashing: argon2id with the library's current parameters."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bgserver.billing.errors import Invalid
from bgshared.api.models import MIN_PASSWORD_LENGTH

_hasher = PasswordHasher()

#: Verified against when the login is unknown, so that both cases take as long.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


#: The most used passwords (from the published lists of leaked ones, in English and
#: Russian keyboard habits), compared without case; what an attacker tries first.
COMMON_PASSWORDS = frozenset("""
123456 1234567 12345678 123456789 1234567890 0123456789 12345678910 987654321 0987654321
111111 1111111 11111111 000000 00000000 123123 123123123 123321 654321 666666 696969
777777 7777777 88888888 99999999 112233 121212 123qwe 1q2w3e 1q2w3e4r 1q2w3e4r5t
1qaz2wsx qazwsx qazwsxedc zaq12wsx zxcvbnm zxcvbnm123 asdfgh asdfghjkl qwerty qwerty12
qwerty123 qwerty1234 qwertyui qwertyuiop qweasd qweasdzxc qwe123 qwe12345 abc123 abcd1234
abcdefgh a1b2c3d4 password password1 password12 password123 passw0rd p@ssw0rd p@ssword
pass1234 admin admin123 admin1234 administrator root toor letmein letmein1 welcome
welcome1 welcome123 iloveyou iloveyou1 trustno1 sunshine princess football baseball
dragon master monkey shadow superman batman michael jennifer hello123 freedom whatever
starwars computer internet secret secret123 changeme default guest test1234 testtest
billing billing123 bgbilling kassa123 support123 user1234 login123 12qwaszx 1234qwer qwer1234
1234abcd aa123456 aaaaaaaa 11223344 12341234 147258369 159753 159357 741852963 zxcv1234
parol parol123 privet privet123 пароль пароль123 йцукен йцукенг йцукенгшщз
ytrewq nfnmzyf gfhjkm marina natasha svetlana nikita maksim dmitriy
""".split())


def weakness(password: str, login: str | None = None, min_length: int = MIN_PASSWORD_LENGTH) -> str | None:
    """Why ``password`` must not be set for ``login``, or None. Spaces around it count:
    they are part of the password."""
    if len(password) < min_length:
        return f"must be at least {min_length} characters long"
    folded = password.strip().casefold()
    if login and folded == login.strip().casefold():
        return "must not be the login"
    if folded in COMMON_PASSWORDS:
        return "is one of the most common passwords; choose another"
    return None


def check_new_password(password: str, login: str | None = None, *, field: str = "password",
                       min_length: int = MIN_PASSWORD_LENGTH) -> None:
    """A 422 naming the field and the reason when the password is too weak to be set."""
    reason = weakness(password, login, min_length)
    if reason is not None:
        raise Invalid(f"the {field.replace('_', ' ')} {reason}",
                      [{"field": field, "message": reason}])
