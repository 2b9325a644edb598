"""motools-core's own features, registered as plugins like any other."""
