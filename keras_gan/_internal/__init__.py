"""Private: argument checks, stateless noise, and the fast paths around Keras' loop and Adam."""
