"""Tenancy cases, one module per area (brands, rights, cases, ...), each with a `CASES` list.

`all_cases()` gathers every module's list, so a new area adds its file here without touching the
others; tests/test_tenancy.py runs them all and its meta-tests require a case for every brand view.
"""

import importlib
import pkgutil

from tests.harness import TenancyCase


def all_cases() -> list[TenancyCase]:
    cases: list[TenancyCase] = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        cases += importlib.import_module(f"{__name__}.{module_info.name}").CASES
    return cases
