"""Payment gateways: the protocol every provider client speaks, and the ones this shop has."""
