"""Patches that make moto 5.2.1 behave like AWS (work in progress)."""


def apply() -> None:
    pass
