"""A deployment: the province an office tracks, followed through time.

On 1 July 2025 Phú Yên (54) and the former Đắk Lắk (66) became the new Tỉnh Đắk Lắk (66 again: GSO reused the
code). An office that tracked Phú Yên now tracks the new province, and keeps every year it recorded. A deployment
is the province of today with the provinces it was formed from (its profile's ``predecessors``):

- a year from 2026 is the province of today (its units, its catalogue, its targets);
- a year up to 2025 is the office's own predecessor (the first listed: Phú Yên for the demo) — its units, its
  catalogues, its targets; the years of the other predecessors are scored with their own profiles where the
  history is viewed in the new units (nongthon/history.py), and imported through them (``predecessor``).

A unit's key is its code with its period, and a year has one period (units.period_of_year): the store keys results
by (code, year), so the same code in 2024 and 2026 never meets. A deployment of a province without predecessors
(Phú Yên alone, the tool's first form) is that one province for the years of its catalogues.

Which deployment a database holds is stored in it (``Store.deployment_profile``, written by ``nongthon demo`` or
``nongthon --province``); a database that never said is Phú Yên's (54), as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .errors import UnknownYear
from .province import Province, load_province
from .units import PERIODS, period_of_year

DEFAULT_PROFILE = "54"
NATIONAL_PROFILE = "00"  # the profile id of a store that follows the whole country (nongthon/national.py)


@dataclass(frozen=True, eq=False)
class Deployment:
    current: Province  # the province of today (the last period it has)
    predecessors: tuple[Province, ...] = ()  # the provinces it was formed from, the office's own first

    @property
    def profile(self) -> str:
        return self.current.profile

    @property
    def provinces(self) -> tuple[Province, ...]:
        """Every profile of the deployment: today's, then its predecessors."""
        return (self.current, *self.predecessors)

    def served(self) -> tuple[Province, ...]:
        """The province each period is shown in, oldest period first: the office's own predecessor, then today's."""
        return (*self.predecessors[:1], self.current)

    def years(self) -> list[int]:
        """Every reporting year of the deployment's catalogues, oldest first."""
        return sorted({y for p in self.served() for y in p.catalogs.years()})

    def province_for(self, year: int) -> Province:
        """The province a reporting year is recorded and shown in: today's from its period on, before that the
        office's own predecessor. A year no catalogue of the deployment covers: UnknownYear naming them all."""
        period = period_of_year(int(year))
        for p in self.served():
            if p.period == period and any(c.covers(int(year)) for c in p.catalogs.catalogs):
                return p
        supported = "; ".join(p.catalogs.years_text() for p in self.served())
        raise UnknownYear(
            f"Năm {year} không thuộc bộ tiêu chí nào của {self.current.name_vi} ({PERIODS[period].label_vi}); "
            f"các năm được hỗ trợ: {supported}"
        )

    def province_of_period(self, period: str) -> Province:
        """The province the units of ``period`` (cu or moi) are shown in; today's when the deployment has none of
        that period (a request for the old units of a province that never had them gets today's units)."""
        return next((p for p in self.served() if p.period == period), self.current)

    def predecessor(self, code: str) -> Province:
        """The predecessor with GSO code ``code`` in the earlier period (for an import of its old-unit results)."""
        for p in self.predecessors:
            if p.code == str(code):
                return p
        have = ", ".join(f"{p.code} ({p.name_vi})" for p in self.predecessors) or "không có"
        raise UnknownYear(f"Tỉnh mã {code!r} không phải tỉnh tiền thân của {self.current.name_vi}; có: {have}.")


@lru_cache(maxsize=8)
def load_deployment(profile: str = DEFAULT_PROFILE) -> Deployment:
    """The deployment of a profile: that province, with the profiles it names as predecessors."""
    current = load_province(profile)
    return Deployment(current=current, predecessors=tuple(load_province(p) for p in current.predecessors))


@lru_cache(maxsize=1)
def national_deployment() -> Deployment:
    """The whole country from 1 July 2025 (nongthon/national.py): every province's xã as one province, from 2026."""
    from .national import national_province

    return Deployment(current=national_province())


def deployment_of(store) -> Deployment:  # noqa: ANN001 - Store
    """The deployment a store follows (``Store.deployment_profile``); Phú Yên (54) for a store that never said, the
    whole country for a store of ``nongthon demo --national`` (NATIONAL_PROFILE)."""
    profile = store.deployment_profile() or DEFAULT_PROFILE
    return national_deployment() if profile == NATIONAL_PROFILE else load_deployment(profile)
