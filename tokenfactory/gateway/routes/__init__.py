"""One router per endpoint family; ``gateway.app`` includes them."""
