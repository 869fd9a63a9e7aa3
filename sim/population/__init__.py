"""Population runs: every install-and-leave meter in GB as a compact record, many replications.

``params`` holds the inputs and their sources, ``model`` runs one replication in one
SimPy environment, ``stats`` reduces replications to means and confidence bands,
``runner`` spreads replications over local processes or a Dask cluster, ``report``
writes CSV, JSON and PNG.
"""
