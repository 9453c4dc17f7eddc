"""Accounts and roles: admin, editor (optionally limited to one district-level unit), viewer.

A token is made once (``secrets.token_urlsafe``), shown once, and stored only as its SHA-256: tokens are
random 256-bit secrets, so a plain hash is enough (no password stretching needed) and lookups stay O(1).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from .errors import NongthonError
from .store import Store, users, utcnow
from .text import SHORT_TEXT, limited
from .units import Registry

ROLES = ("admin", "editor", "viewer")
ROLE_NAMES_VI = {"admin": "quản trị", "editor": "biên tập", "viewer": "xem"}


class AccountError(NongthonError):
    """A request about accounts that cannot be done (unknown role, duplicate name, …)."""


class NotAuthenticated(NongthonError):
    """No token, or a token that is unknown or revoked (HTTP 401)."""


class NotAllowed(NongthonError):
    """A valid account acting outside its role or its district (HTTP 403)."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    district: str | None

    def check_write(self, registry: Registry, unit: str | None = None) -> None:
        """Raise NotAllowed unless this account may write (for ``unit``, when given). An editor writes the xã
        (of its district, when limited to one); the results of a district-level unit — its district criteria and
        conditions, which decide the NTM-district milestones — are written by an admin only, so that no editor
        certifies a district, not even its own."""
        if self.role == "admin":
            return
        if self.role != "editor":
            raise NotAllowed(
                f"Tài khoản {self.name} có quyền {ROLE_NAMES_VI[self.role]}, không được ghi số liệu; cần quyền biên tập hoặc quản trị."
            )
        if unit is not None and unit in registry.units.index and registry.units.at[unit, "level"] != "commune":
            raise NotAllowed(district_level_refusal(self.name, [f"{registry.units.at[unit, 'name']} ({unit})"]))
        if self.district and unit is not None:
            district = registry.units.at[unit, "district_code"] if unit in registry.units.index else None
            if district != self.district:
                raise NotAllowed(
                    f"Tài khoản {self.name} chỉ được sửa số liệu của {registry.units.at[self.district, 'name']}; "
                    f"đơn vị {unit} thuộc {registry.units.at[district, 'name'] if district else 'đơn vị khác'}."
                )


def district_level_refusal(name: str, units: list[str]) -> str:
    """Why an editor may not write the results of district-level units (named, with their codes)."""
    return (
        f"Tài khoản {name} (quyền biên tập) không được ghi tiêu chí, điều kiện cấp huyện của {', '.join(units)}: "
        "các kết quả này quyết định mốc huyện đạt chuẩn nông thôn mới, chỉ tài khoản quản trị được ghi. Không có gì được ghi."
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_user(store: Store, registry: Registry, name: str, role: str, district: str | None = None) -> str:
    """Create an account; returns its token (the only time it is shown). The name is free text: cleaned
    (``text.nfc``: no invisible characters) and at most SHORT_TEXT characters."""
    name = limited(name, "tên tài khoản", SHORT_TEXT)
    if not name:
        raise AccountError("Tên tài khoản không được để trống")
    if role not in ROLES:
        raise AccountError(f"Quyền {role!r} không hợp lệ; chọn: {', '.join(ROLES)}")
    if district is not None:
        if role != "editor":
            raise AccountError("Chỉ tài khoản biên tập (editor) mới giới hạn theo huyện (--district)")
        if district not in registry.districts().index:
            raise AccountError(f"Không có đơn vị cấp huyện mã {district!r}; có: {', '.join(registry.districts().index)}")
    token = secrets.token_urlsafe(32)
    with store.writing() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first() is not None:
            raise AccountError(f"Đã có tài khoản tên {name!r}; chọn tên khác hoặc thu hồi tài khoản cũ")
        conn.execute(sa.insert(users).values(name=name, role=role, district=district, token_hash=_hash(token), created_at=utcnow()))
    return token


def list_users(store: Store) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.read_sql(
            sa.select(users.c.id, users.c.name, users.c.role, users.c.district, users.c.created_at, users.c.revoked_at).order_by(
                users.c.id
            ),
            conn,
        )


def revoke_user(store: Store, name: str) -> None:
    name = limited(name, "tên tài khoản", SHORT_TEXT)
    with store.writing() as conn:
        done = conn.execute(users.update().where(users.c.name == name, users.c.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount
    if not done:
        raise AccountError(f"Không có tài khoản đang hoạt động tên {name!r}")


def authenticate(store: Store, token: str | None) -> User:
    """The account of a bearer token; NotAuthenticated when missing, unknown or revoked."""
    if not token:
        raise NotAuthenticated("Cần đăng nhập: gửi tiêu đề Authorization: Bearer <mã truy cập>.")
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(users).where(users.c.token_hash == _hash(token))).mappings().first()
    if row is None:
        raise NotAuthenticated("Mã truy cập không đúng.")
    if row["revoked_at"] is not None:
        # the account is not named: whoever holds a revoked token learns nothing about whose it was
        raise NotAuthenticated("Mã truy cập đã bị thu hồi; xin quản trị viên cấp mã mới.")
    return User(row["id"], row["name"], row["role"], row["district"])
