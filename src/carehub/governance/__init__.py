"""Governance: who may read what, for which purpose, at which level; disclosure control; the audit
log. Every read of the standard zone and the marts goes through `access.GovernedReader`."""
