"""The cost model's maths on hand-built counts: request units, prices, scaling, schedules, the meter."""

import threading
from collections import Counter

import pytest

from bench import cost_model as cm
from bench.cost_model import Counts, Meter, Schedule, StdoutTap

KB = 1024


def s(text):
    return {"S": text}


def sized(size, **keys):
    """An item of exactly `size` bytes with these string attributes (and a filler attribute `f`)."""
    item = {name: s(value) for name, value in keys.items()}
    filler = size - cm.item_size(item) - len("f")
    assert filler >= 0
    return {**item, "f": s("x" * filler)}


# --- item sizes ----------------------------------------------------------------------------------


def test_item_size_adds_names_and_values_by_dynamodb_rules():
    item = {
        "pk": s("ISSUE#1"),  # 2 + 7
        "n": {"N": "-12.50"},  # 1 + (3 significant digits: 2 bytes) + 1
        "ok": {"BOOL": True},  # 2 + 1
        "l": {"L": [s("ab"), {"N": "7"}]},  # 1 + 3 + (1 + 2) + (1 + 2)
        "m": {"M": {"k": s("é")}},  # 1 + 3 + (1 + 1 + 2): é is two bytes in UTF-8
    }
    assert cm.item_size(item) == 9 + 4 + 3 + 10 + 8


@pytest.mark.parametrize(("number", "size"), [("0", 2), ("7", 2), ("100", 2), ("12345", 4), ("0.0001", 2)])
def test_number_size_counts_significant_digits_only(number, size):
    assert cm.number_size(number) == size


def test_no_item_has_no_size():
    assert cm.item_size(None) == 0


# --- request units -------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (KB, 1), (KB + 1, 2), (3 * KB, 3), (3 * KB + 1, 4)])
def test_write_units_round_up_per_started_kilobyte(size, units):
    assert cm.write_units(size) == units


def test_a_transaction_costs_two_write_units_per_item():
    sizes = [598, 53, 145, 71, 1067]  # an intake: issue, reference, customer, address, opening event
    assert sum(cm.write_units(size, transactional=True) for size in sizes) == 2 * (1 + 1 + 1 + 1 + 2)


@pytest.mark.parametrize(
    ("size", "mode", "units"),
    [
        (0, "eventual", 0.5),  # a miss still costs the minimum
        (4 * KB, "eventual", 0.5),
        (4 * KB + 1, "eventual", 1.0),
        (4 * KB + 1, "strong", 2.0),
        (100, "transactional", 2.0),
        (9 * KB, "transactional", 6.0),
    ],
)
def test_read_units_round_up_per_started_4_kb(size, mode, units):
    assert cm.read_units(size, mode) == units


QUEUE = [("gsi1pk", "gsi1sk")]


def test_an_item_entering_an_index_costs_one_index_write():
    task = sized(500, pk="ISSUE#1", sk="TASK#a", gsi1pk="USER#sam", gsi1sk="2026")
    assert cm.index_write_units(None, task, QUEUE) == 1


def test_an_item_leaving_an_index_costs_one_index_write_of_its_old_size():
    old = sized(1500, pk="ISSUE#1", sk="TASK#a", gsi1pk="USER#sam", gsi1sk="2026")
    done = sized(700, pk="ISSUE#1", sk="TASK#a")
    assert cm.index_write_units(old, done, QUEUE) == 2


def test_changing_an_index_key_costs_a_delete_and_a_put():
    old = sized(500, pk="ISSUE#1", sk="TASK#a", gsi1pk="USER#sam", gsi1sk="2026")
    moved = sized(500, pk="ISSUE#1", sk="TASK#a", gsi1pk="TEAM#hr", gsi1sk="2026")
    assert cm.index_write_units(old, moved, QUEUE) == 2


def test_index_writes_depend_on_what_changed():
    old = sized(500, pk="ISSUE#1", sk="TASK#a", gsi1pk="USER#sam", gsi1sk="2026", token="")
    edited = {**old, "token": s("abc")}
    assert cm.index_write_units(old, edited, QUEUE) == 1
    assert cm.index_write_units(old, dict(old), QUEUE) == 0
    outside = sized(500, pk="ISSUE#1", sk="ISSUE")
    assert cm.index_write_units(outside, {**outside, "status": s("resolved")}, QUEUE) == 0


def test_an_item_needs_every_key_attribute_of_a_sparse_index():
    half = sized(300, pk="ISSUE#1", sk="TASK#a", gsi1pk="USER#sam")
    assert cm.index_write_units(None, half, QUEUE) == 0


# --- prices --------------------------------------------------------------------------------------


def test_lambda_cost_of_a_million_invocations_at_512_mb_and_100_ms():
    # $0.20 for the requests + 1,000,000 x 0.5 GB x 0.1 s x $0.0000166667 per GB-s
    assert cm.lambda_cost(1_000_000, 512, 100) == pytest.approx(0.20 + 0.833335)


def test_lambda_bills_duration_in_whole_milliseconds():
    assert cm.lambda_cost(1, 1024, 100.2) == cm.lambda_cost(1, 1024, 101)
    assert cm.lambda_cost(1, 1024, 100.2) > cm.lambda_cost(1, 1024, 100)


def example() -> Counts:
    return Counts(
        api_requests=4,
        invocations=14,
        transitions=14,
        requests=Counter(
            {
                "sqs.SendMessage": 10,
                "sqs.ReceiveMessage": 10,
                "sqs.DeleteMessage": 10,
                "s3.PutObject": 2,
                "s3.GetObject": 3,
                "s3.DeleteObject": 1,
                "stepfunctions.StartExecution": 1,
                "stepfunctions.SendTaskSuccess": 10,
            }
        ),
        read_units={"GetItem": 39.0, "Query": 9.5},
        write_units={"PutItem": 81, "TransactWriteItems": 12},
        emails=6,
        emf_bytes=2332,
        log_bytes=2206,
    )


def test_cost_by_service_at_list_prices():
    costs = cm.cost_by_service(example())
    assert costs["Step Functions"] == pytest.approx(14 * 0.025 / 1000)
    assert costs["Lambda"] == pytest.approx(14 * (0.20 / 1e6 + 0.5 * 0.1 * 0.0000166667))
    assert costs["API Gateway"] == pytest.approx(4 * 3.50 / 1e6)
    assert costs["SQS"] == pytest.approx(30 * 0.40 / 1e6)
    assert costs["DynamoDB"] == pytest.approx(48.5 * 0.125 / 1e6 + 93 * 0.625 / 1e6)
    assert costs["SES"] == pytest.approx(6 * 0.10 / 1000)
    ingested = 2332 + 2206 + 14 * cm.LAMBDA_PLATFORM_LOG_BYTES
    assert costs["CloudWatch Logs"] == pytest.approx(ingested / 1024**3 * 0.50)
    assert costs["S3"] == pytest.approx(2 * 0.005 / 1000 + 3 * 0.0004 / 1000)  # the DELETE is free
    assert costs["CloudWatch API"] == 0


def test_step_functions_api_calls_cost_nothing():
    only_calls = Counts(requests=Counter({"stepfunctions.StartExecution": 1, "stepfunctions.SendTaskSuccess": 9}))
    assert cm.total_cost(only_calls) == 0


def test_per_10000_issues_a_month_scales_the_cost_per_issue():
    per_issue = cm.total_cost(example())
    assert cm.monthly(per_issue) == pytest.approx(10_000 * per_issue)
    assert cm.monthly(0.0012363) == pytest.approx(12.363)
    assert cm.monthly(0.0012363, issues=500) == pytest.approx(0.61815)


def test_the_example_issue_costs_about_a_tenth_of_a_cent():
    assert cm.total_cost(example()) == pytest.approx(0.00106, abs=0.00001)


def test_s3_requests_split_into_put_and_get_classes_without_free_ones():
    assert example().s3_requests() == (2, 3)


@pytest.mark.parametrize(
    ("request_name", "billed"),
    [
        ("dynamodb.GetItem", True),
        ("dynamodb.TransactWriteItems", True),
        ("dynamodb.DescribeTable", False),
        ("stepfunctions.StartExecution", False),
        ("cognito-idp.ListUsersInGroup", False),
        ("ses.SendRawEmail", True),
        ("ses.VerifyEmailIdentity", False),
        ("s3.DeleteObject", False),
        ("s3.GetObject", True),
        ("sqs.SendMessage", True),
    ],
)
def test_priced_names_the_requests_billed_per_request(request_name, billed):
    assert cm.priced(request_name) is billed


# --- fixed monthly costs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("rate(1 hour)", 730),
        ("rate(15 minutes)", 2920),
        ("rate(2 days)", 730 / 48),
        ("cron(0 3 * * ? *)", 730 / 24),
        ("cron(0/30 9-17 ? * MON-FRI *)", 2 * 9 * (730 / 24) * 5 / 7),
        ("cron(15 8 1 * ? *)", 1),
        ("cron(0 8 1 JAN,JUL ? *)", 2 / 12),
    ],
)
def test_runs_per_month_of_a_schedule(expression, runs):
    assert cm.runs_per_month(expression) == pytest.approx(runs)


def test_a_schedule_expression_it_cannot_read_is_refused():
    with pytest.raises(ValueError):
        cm.runs_per_month("at(2026-12-01T00:00:00)")


def test_documented_metric_series_reads_the_total_row():
    table = (
        "| Metric | Emitted on | Value | Dimensions | Series |\n|---|---|---|---|---|\n"
        "| A | e | 1 | {Type} | 10 |\n| **Total** | | | | **10** |\n"
    )
    assert cm.documented_metric_series(table) == 10
    assert cm.documented_metric_series(cm.KPIS_DOC.read_text()) > 0


def test_fixed_monthly_costs():
    hourly = Schedule("hourly_ops", "rate(1 hour)", Counts(invocations=1, read_units={"Query": 2.0}), seconds=0.04)
    training = Schedule("nightly_retraining", "cron(0 3 * * ? *)", Counts(invocations=1), seconds=20.0)
    broken = Schedule("broken", "rate(1 minute)", Counts(invocations=1), seconds=0.0, problem="ValueError: no")
    lines = dict(cm.fixed_monthly_costs(10, [hourly, training, broken], ["tasks", "jobs"]))
    [metrics, hourly_cost, training_cost, polling] = lines.values()
    assert metrics == pytest.approx(3.00)
    platform_logs = 300 / 1024**3 * 0.50
    # under the assumed 100 ms, a run is billed 100 ms at 512 MB
    assert hourly_cost == pytest.approx(730 * (cm.lambda_cost(1, 512, 100) + 2 * 0.125 / 1e6 + platform_logs))
    # the training function has its own memory and is billed what it took
    assert training_cost == pytest.approx(730 / 24 * (cm.lambda_cost(1, 3008, 20_000) + platform_logs))
    # 5 connections x one 20 s long poll each, for 730 hours, on 2 queues
    assert polling == pytest.approx(2 * 5 * 730 * 180 * 0.40 / 1e6)
    assert not any("broken" in text for text in lines)


# --- the meter, without AWS ----------------------------------------------------------------------


def test_the_tap_counts_emf_blobs_and_log_lines_written_in_pieces():
    meter, counts = Meter(), Counts()
    tap = StdoutTap(meter)
    blob = '{"_aws":{"CloudWatchMetrics":[]},"TaskOpened":[1.0]}'
    with meter.recording(counts), meter.counting():
        tap.write(blob)
        tap.write("\n")
        tap.write("a log line\nanother")
        tap.write(" é\n")
    assert (counts.emf_blobs, counts.emf_bytes) == (1, len(blob))
    assert counts.log_bytes == len("a log line") + len("another é".encode())


def test_the_main_thread_counts_only_inside_counting_and_never_inside_not_counting():
    meter, counts = Meter(), Counts()
    with meter.recording(counts):
        meter.add(api_requests=1)
        with meter.counting():
            meter.add(api_requests=1, invocations=1, requests={"sqs.ReceiveMessage": 1})
            with meter.not_counting(), meter.counting():
                meter.add(api_requests=1)
    assert (counts.api_requests, counts.invocations, counts.requests) == (1, 1, Counter({"sqs.ReceiveMessage": 1}))


def test_other_threads_always_count_while_recording():
    meter, counts = Meter(), Counts()
    with meter.recording(counts):
        worker = threading.Thread(target=meter.add, kwargs={"requests": {"sqs.SendMessage": 1}})
        worker.start()
        worker.join()
    meter.add(requests={"sqs.SendMessage": 1})  # nothing is being recorded
    assert counts.requests == Counter({"sqs.SendMessage": 1})
