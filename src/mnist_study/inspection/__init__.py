"""Looking inside trained networks: gradient ascent on the input (visualize) and their
answers to images that are not MNIST digits (unfamiliar)."""
