"""Speed benchmarks: the book's pipelines next to faithful re-creations of the seed tutorials'.

    python -m benchmarks.run            # every benchmark, writes benchmarks/results.md
"""
