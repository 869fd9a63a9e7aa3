"""Population runs: every install-and-leave meter in GB as a compact record, many replications.

``params`` holds the inputs and their sources, ``model`` runs one replication in one
SimPy environment, ``stats`` reduces replications to means and confidence bands,
``runner`` spreads replications over local processes or a Dask cluster, ``report``
writes CSV, JSON and PNG.
"""

#: Population engines: the compiled one (default) and the SimPy reference that replay runs.
#: Here rather than in ``model``, so that the command line offers the choice without
#: importing the engines themselves (numpy, numba).
ENGINES = ("numba", "simpy")
DEFAULT_ENGINE = "numba"
