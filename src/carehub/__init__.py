"""carehub: a virtual BI hub for an Integrated Care System."""
