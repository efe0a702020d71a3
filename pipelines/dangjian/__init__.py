"""dangjian: Chinese reports on local Party building (党建) as a validated, citable dataset."""

__version__ = "0.1.0"
