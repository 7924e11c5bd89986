"""The Workbench's components, one module each (see :mod:`.base`); :func:`.base.registered` imports them all."""
