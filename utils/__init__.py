"""Shared code of the book "BERT로 배우는 감성 분석 / Sentiment Analysis with BERT".

Modules: ``env`` (mode, seeds, devices, the numpy shim for MXNet), ``data`` (readers,
loaders, downloads), ``tokenization`` (tokenizers trained on the sample data) and
``plots``. Import ``utils.env`` before ``mxnet``: it restores the numpy aliases MXNet needs.
"""
