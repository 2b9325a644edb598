"""Atoms: immutable, typed, content-addressed artifacts."""

from motools.atoms.base import Atom
from motools.atoms.builtin import DatasetAtom, EvalAtom, ModelAtom, TrainingJobAtom
from motools.atoms.ids import atom_type_of, parse_atom_id, validate_user

__all__ = [
    "Atom",
    "DatasetAtom",
    "EvalAtom",
    "ModelAtom",
    "TrainingJobAtom",
    "atom_type_of",
    "parse_atom_id",
    "validate_user",
]
