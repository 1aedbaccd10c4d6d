"""Trains a small CIFAR10 classifier and publishes it with Tekton type-hint results.

One module per job: cifar (data set layout), dataset (fetch + verify), formats (what each
format name means), models_torch / models_keras (network, training, saving), accelerator
(device selection), digest (model digests), upload (storage), results (Tekton results),
frameworks (installed versions), cli (the flow).
"""
