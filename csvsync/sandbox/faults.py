"""Fault knobs (latency, 500s, dropped connections, 429 bursts, reject rules) and their RNG.

One ``Faults`` object per sandbox; decisions come from a seeded ``random.Random`` so a run
with the same ``seed`` and request order fails the same way.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .ratelimit_window import RateWindow

RATE_KNOBS = ("rate_limit", "window")
MAX_SECONDS = 86_400.0  # latencies and Retry-After: up to a day (time.sleep overflows far above)
_SECONDS_KNOBS = ("latency", "spike_latency", "retry_after")
_RULE_STRINGS = ("field", "item_id", "cmsLocaleId", "description")


@dataclass
class FaultKnobs:
    latency: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_after_apply: bool = False
    spike_rate: float = 0.0
    spike_latency: float = 0.0
    burst_429: int = 0
    retry_after: float | None = None
    reject: list[dict[str, Any]] = field(default_factory=list)
    seed: int | None = None
    # HTTP methods the random faults (latency, spikes, 500s, drops, 429 bursts) apply to;
    # empty = every method. ["PATCH"] simulates an API that reads fine but fails every write.
    methods: list[str] = field(default_factory=list)


_KNOB_TYPES: dict[str, tuple[type, ...]] = {
    "latency": (int, float),
    "error_rate": (int, float),
    "drop_rate": (int, float),
    "drop_after_apply": (bool,),
    "spike_rate": (int, float),
    "spike_latency": (int, float),
    "burst_429": (int,),
    "retry_after": (int, float, type(None)),
    "reject": (list,),
    "seed": (int, type(None)),
    "methods": (list,),
}


class Faults:
    """Thread-safe holder of the current knobs and the decisions drawn from them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.knobs = FaultKnobs()
        self._rng = random.Random()

    def update(self, **knobs: Any) -> None:
        """Set some knobs; unknown names or wrong types raise ``ValueError``."""
        known = {f.name for f in fields(FaultKnobs)}
        for name, value in knobs.items():
            if name not in known:
                raise ValueError(f"unknown fault knob: {name}")
            types = _KNOB_TYPES[name]
            if isinstance(value, bool) and bool not in types:
                raise ValueError(f"knob {name} must be a number")
            if not isinstance(value, types):
                raise ValueError(f"knob {name} has the wrong type: {value!r}")
            if isinstance(value, int | float) and not isinstance(value, bool):
                _check_number(name, value)
            entries = value if isinstance(value, list) else []
            if name == "reject":
                for rule in entries:
                    _check_rule(rule)
            if name == "methods" and not all(isinstance(m, str) for m in entries):
                raise ValueError("methods must be a list of HTTP method names")
        with self._lock:
            for name, value in knobs.items():
                setattr(self.knobs, name, value)
            if "seed" in knobs:
                self._rng = random.Random(knobs["seed"])

    def reset(self) -> None:
        with self._lock:
            self.knobs = FaultKnobs()
            self._rng = random.Random()

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self.knobs)

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def draw(self, method: str = "GET") -> RequestFaults:
        """Decide every fault for one request at once, so concurrent requests stay ordered."""
        with self._lock:
            k = self.knobs
            if k.methods and method.upper() not in {m.upper() for m in k.methods}:
                return RequestFaults(reject=[dict(r) for r in k.reject])
            delay = k.latency + (k.spike_latency if self._chance(k.spike_rate) else 0.0)
            burst = k.burst_429 > 0
            if burst:
                k.burst_429 -= 1
            return RequestFaults(
                delay=delay,
                burst_429=burst,
                retry_after=k.retry_after,
                error=self._chance(k.error_rate),
                drop=self._chance(k.drop_rate),
                drop_after_apply=k.drop_after_apply,
                reject=[dict(r) for r in k.reject],
            )


def _check_number(name: str, value: float) -> None:
    if name == "seed":
        return
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"knob {name} must be a finite number, 0 or more")
    if name in _SECONDS_KNOBS and value > MAX_SECONDS:
        raise ValueError(f"knob {name} must be at most {MAX_SECONDS:g} seconds")


def _check_rule(rule: Any) -> None:
    if not isinstance(rule, dict):
        raise ValueError("reject must be a list of objects")
    for key in _RULE_STRINGS:
        if key in rule and not isinstance(rule[key], str):
            raise ValueError(f"a reject rule's {key} must be a string")
    if rule.get("on", "write") not in ("write", "publish"):
        raise ValueError('a reject rule\'s "on" must be "write" or "publish"')


def apply_knobs(faults: Faults, rate: RateWindow, knobs: dict[str, Any]) -> None:
    """Set fault knobs and the rate knobs (``rate_limit``, ``window``) in one go."""
    knobs = dict(knobs)
    limits = {k: knobs.pop(k) for k in RATE_KNOBS if k in knobs}
    for name, value in limits.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"knob {name} must be a positive number")
        if not math.isfinite(value) or value > 1e9:
            raise ValueError(f"knob {name} must be a number up to 1e9")
    if "rate_limit" in limits and int(limits["rate_limit"]) < 1:
        raise ValueError("knob rate_limit must be at least 1 request per window")
    faults.update(**knobs)
    rate.configure(limit=limits.get("rate_limit"), window=limits.get("window"))


def check_item_limit(value: Any) -> int | None:
    """A site plan's item limit as the control API takes it: a whole number, 0 or more, or
    None (no limit)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError("item_limit must be a whole number, 0 or more, or null")
    return value


def knobs_state(faults: Faults, rate: RateWindow) -> dict[str, Any]:
    return {**faults.as_dict(), "rate_limit": rate.limit, "window": rate.window}


@dataclass(frozen=True)
class RequestFaults:
    delay: float = 0.0
    burst_429: bool = False
    retry_after: float | None = None
    error: bool = False
    drop: bool = False
    drop_after_apply: bool = False
    reject: list[dict[str, Any]] = field(default_factory=list)
