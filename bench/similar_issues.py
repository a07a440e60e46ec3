"""What the similar-issues lookup costs at 1k, 10k and 100k stored vectors of one type, on moto
in-process (decision 0043).

    python -m bench.similar_issues [--sizes 1000,10000,100000] [--repeat 3] [--seed 7]

For each size, writes that many quantised vectors (random unit vectors: the read cost does not
depend on what they say) as singles under a type of their own through the DynamoDB adapter, lets
a first lookup pack them into blocks (as the first lookups after a backfill would), then times the
lookup's two parts: reading the type's candidates (one Query per shard, in parallel threads,
paginated) and ranking them (numpy, int8 → float32 cosines, top 20). Prints the items and pages
read, the bytes of the items as DynamoDB sizes them and the read units that makes (eventually
consistent: half a unit per 4 KB, each page rounded up), and that in dollars. The
asked issue's encoding (one text, about 10–40 ms with the numpy encoder) and the five neighbours'
details (one BatchGetItem, 2 Queries each) do not grow with the size and are not in the figures.

Numbers from one run; moto's in-process Query is far slower per item than DynamoDB's, so the
latencies here bound the ranking and the client's parsing, not the service.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.environment import fake_aws

fake_aws("bench")

import boto3  # noqa: E402  (after the environment: settings are read from it)
import numpy as np  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from moto import mock_aws  # noqa: E402

from chalicelib import settings  # noqa: E402
from chalicelib.adapters.dynamodb.models import bind  # noqa: E402
from chalicelib.adapters.dynamodb.schema import create_table_request  # noqa: E402
from chalicelib.adapters.dynamodb.similar_issues import SimilarVectorRepository  # noqa: E402
from chalicelib.domain import similarity  # noqa: E402

PAGE_BYTES = 1024 * 1024
#: DynamoDB's on-demand price of a read request unit (us-east-1, from November 2024).
PRICE_PER_MILLION_READS = 0.125


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(args.seed)
    config = settings.get()
    with mock_aws():
        bind(config.table_name, config.region, config.endpoint_url)
        try:
            boto3.client("dynamodb").create_table(**create_table_request(config.table_name))
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceInUseException":
                raise
        repository = SimilarVectorRepository()
        print(f"shards {similarity.SHARDS}; vectors int8 x {similarity.DIMENSIONS}; moto in-process; 2 shared cores")
        header = (
            "vectors",
            "write s",
            "first lookup s (blocks packed)",
            "items read",
            "pages",
            "MB read",
            "RRU",
            "read ms",
            "rank ms",
            "lookup ms",
            "$ / 1k lookups",
        )
        print(" | ".join(header))
        for size in sizes:
            type_id = f"bench-{size}"
            vectors = rng.standard_normal((size, similarity.DIMENSIONS)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            ids = [f"01BENCH{size:07d}{k:013d}" for k in range(size)]
            started = time.perf_counter()
            repository.put_many(type_id, [(i, similarity.quantise(v)) for i, v in zip(ids, vectors, strict=True)])
            written = time.perf_counter() - started
            query = vectors[0] + 0.3 * vectors[1]
            started = time.perf_counter()
            repository.candidates(type_id)  # the first lookup packs the singles into blocks
            packing = time.perf_counter() - started
            packed = repository.last_read.packed
            reads, ranks = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                candidates = repository.candidates(type_id)
                read = time.perf_counter() - started
                started = time.perf_counter()
                ranked = similarity.rank(query, candidates, exclude={ids[0]}, limit=20)
                ranks.append(time.perf_counter() - started)
                reads.append(read)
            assert candidates.distinct() == size and ranked[0][0] == ids[1]
            cost = repository.last_read
            read_ms, rank_ms = statistics.median(reads) * 1000, statistics.median(ranks) * 1000
            row = (
                f"{size:,}",
                f"{written:.1f}",
                f"{packing:.1f} ({packed})",
                f"{cost.items:,}",
                f"{cost.pages}",
                f"{cost.bytes / 1e6:.1f}",
                f"{cost.units:,.0f}",
                f"{read_ms:,.0f}",
                f"{rank_ms:,.1f}",
                f"{read_ms + rank_ms:,.0f}",
                f"{cost.units * 1000 * PRICE_PER_MILLION_READS / 1e6:.3f}",
            )
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
