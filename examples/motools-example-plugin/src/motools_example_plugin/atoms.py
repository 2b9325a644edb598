"""The example plugin's custom atom type."""

from __future__ import annotations

import json

from motools.atoms import Atom


class WordCountAtom(Atom):
    """Word counts of a dataset's assistant replies (``counts.json``)."""

    type = "wordcount"

    def counts(self) -> dict[str, int]:
        """``{word: count}``."""
        return dict(json.loads((self.get_data_path() / "counts.json").read_text()))
