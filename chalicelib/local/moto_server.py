"""The moto server of the embedded stack, with `moto_patches` applied: `python -m chalicelib.local.moto_server`."""

from __future__ import annotations

from moto.server import main

from chalicelib.local import moto_patches

if __name__ == "__main__":
    moto_patches.apply()
    main()
