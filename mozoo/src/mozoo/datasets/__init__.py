"""Curated datasets: ``mozoo.datasets.<name>:get_<name>_dataset``.

Every loader takes ``cache_dir``, ``sample_size`` and ``seed`` and returns a
:class:`~mozoo.datasets.loading.ZooDataset` (rows plus their source).  The list of
datasets, with sources, citations and licences, is :data:`mozoo.catalog.DATASETS`.
"""

from mozoo.datasets.loading import DEFAULT_CACHE_DIR, ZooDataset, load_zoo_dataset, sample_rows

__all__ = ["DEFAULT_CACHE_DIR", "ZooDataset", "load_zoo_dataset", "sample_rows"]
