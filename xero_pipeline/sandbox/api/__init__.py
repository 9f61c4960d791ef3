"""The HTTP side: server, routing, the Accounting API's gates and reads, query languages, rendering, limits, faults, controls."""
