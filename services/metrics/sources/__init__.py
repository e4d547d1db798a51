"""One module per polled service; each source turns its service's answer into points."""
