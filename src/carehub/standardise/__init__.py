"""Standardise: map a partner's file to the common data model, check every row in one SQL pass,
pseudonymise the NHS number, quarantine failing rows and publish the rest."""
