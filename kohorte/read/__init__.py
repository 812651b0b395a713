"""Everything that reads a published warehouse for a person: named queries with access
rules (``queries``, ``access``), small-count protection (``disclosure``, ``cards``), the
analysts' sandbox (``sandbox``), exports and number formats (``export``, ``fmt``). Every
output, whether a page, the CLI or an export, reads through here, so protection is applied once."""
