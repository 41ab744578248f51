"""What every simulator here shares: a clock of fixed steps and a life that ends with ``close``.

:class:`SteppedWorld`: ``time`` = steps taken x ``config.timestep`` (simulated seconds since
construction), ``timestep``, and use as a context manager (``with TabletopSim() as sim:``).
:class:`PyBulletWorld` adds the PyBullet DIRECT client of the tabletop and the house:
``client_id`` (an error once closed) and a ``close`` that disconnects, safe to call twice. The
Habitat adapter is a :class:`SteppedWorld` that closes its own simulator.
"""

from __future__ import annotations

from typing import Any, Self


class SteppedWorld:
    """A simulator stepped ``config.timestep`` seconds at a time; counts its steps in
    ``_steps``."""

    config: Any  # has .timestep (seconds)
    _steps: int = 0

    @property
    def time(self) -> float:
        """Simulated seconds since construction."""
        return self._steps * self.config.timestep

    @property
    def timestep(self) -> float:
        return self.config.timestep

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PyBulletWorld(SteppedWorld):
    """A :class:`SteppedWorld` in its own PyBullet DIRECT client (:meth:`_connect`)."""

    _client: int | None = None

    def _connect(self) -> None:
        import pybullet as p  # the Habitat adapter shares this module without PyBullet

        self._client = p.connect(p.DIRECT)
        self._steps = 0

    @property
    def client_id(self) -> int:
        if self._client is None:
            raise RuntimeError(f"{type(self).__name__} is closed")
        return self._client

    def close(self) -> None:
        """Disconnect PyBullet; safe to call twice."""
        if self._client is not None:
            import pybullet as p

            try:
                p.disconnect(physicsClientId=self._client)
            finally:
                self._client = None
