"""Distributed Map: a Map state whose items run as child executions of their own.

https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html

    mapstate.py      the engine's side: evaluate the fields, record MapRun* events, hand off
    maprun.py        the driver's side: items, ledger, children, tolerance, results, restart
    store.py         the map run record and its item ledger (sfn_map_runs, sfn_map_items)
    itemreader.py    items from S3: listObjectsV2, getObject CSV / JSON / JSONL / MANIFEST
    batching.py      ItemBatcher and the failure threshold (pure)
    resultwriter.py  manifest.json and SUCCEEDED_n / FAILED_n / PENDING_n result files
    local.py         the same run inside the in-process runner (no S3, no records)
    api.py           DescribeMapRun, ListMapRuns, UpdateMapRun, ListExecutions(mapRunArn)
"""
