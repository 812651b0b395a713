"""The nightly run as plain functions: repair first (``recovery``), plan the inbox
(``inbox``), load and publish (``pipeline``), and delete what retention demands
(``retention``). ``flows/`` only sequences these."""
