"""bench.api reads wrk's report: the figures it takes from a stored sample of
``wrk --latency`` output (wrk itself is not needed here)."""
import pytest

from bench.api import duration_ms, parse_wrk, size_bytes, verdict

#: wrk 4.1.0 (Debian), 2 threads, 32 connections, --latency, against a page that redirected
#: some requests and timed some out.
SAMPLE = """\
Running 10s test @ http://127.0.0.1:36009/my/visits
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.88ms   6.44ms   1.02s    74.58%
    Req/Sec   731.07     61.15     0.90k    71.22%
  Latency Distribution
     50%  812.00us
     75%   22.29ms
     90%   25.51ms
     99%    1.02s 
  14596 requests in 10.03s, 5.27MB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 12
Requests/sec:   1455.23
Transfer/sec:    538.01KB
"""

#: A clean run: no error lines.
CLEAN = """\
Running 5s test @ http://127.0.0.1:41235/employers/6565
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.88s   644.18ms   2.95s    74.58%
    Req/Sec    11.07      6.15    20.00     51.22%
  Latency Distribution
     50%    2.13s 
     75%    2.29s 
     90%    2.51s 
     99%    2.95s 
  59 requests in 5.03s, 3.27MB read
Requests/sec:     11.73
Transfer/sec:    665.01KB
"""


def test_figures_of_a_run_with_errors():
    figures = parse_wrk(SAMPLE)
    assert figures["rps"] == 1455.23
    assert figures["requests"] == 14596
    assert figures["seconds"] == pytest.approx(10.03)
    assert figures["bytes"] == pytest.approx(5.27 * 1024 * 1024)
    assert figures["p50_ms"] == pytest.approx(0.812)
    assert figures["p75_ms"] == pytest.approx(22.29)
    assert figures["p90_ms"] == pytest.approx(25.51)
    assert figures["p99_ms"] == pytest.approx(1020.0)
    assert figures["non_2xx"] == 12
    assert figures["socket_errors"] == {"connect": 0, "read": 2, "write": 0, "timeout": 7}


def test_figures_of_a_clean_run():
    figures = parse_wrk(CLEAN)
    assert figures["rps"] == 11.73
    assert figures["p99_ms"] == pytest.approx(2950.0)
    assert figures["non_2xx"] == 0
    assert figures["socket_errors"] == {}


def test_output_without_a_result_is_refused():
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")
    without_latency = "\n".join(line for line in CLEAN.splitlines() if "%" not in line)
    with pytest.raises(ValueError, match="--latency"):
        parse_wrk(without_latency)


@pytest.mark.parametrize("text, ms", [("812.00us", 0.812), ("18.91ms", 18.91), ("1.02s", 1020.0),
                                      ("2.00m", 120_000.0), ("0.00us", 0.0)])
def test_durations(text, ms):
    assert duration_ms(text) == pytest.approx(ms)


@pytest.mark.parametrize("text, size", [("812B", 812), ("541.41KB", 541.41 * 1024),
                                        ("5.29MB", 5.29 * 1024 ** 2), ("1.00GB", 1024 ** 3)])
def test_sizes(text, size):
    assert size_bytes(text) == pytest.approx(size)


@pytest.mark.parametrize("text", ["", "12", "1.2 ms", "3days"])
def test_not_a_duration(text):
    with pytest.raises(ValueError):
        duration_ms(text)


def test_verdict_needs_both_the_ratio_and_the_p99():
    assert verdict(600.0, 40.0, 1000.0, 0.5) == {"ratio": 0.6, "target": 0.5, "met": True}
    assert verdict(400.0, 40.0, 1000.0, 0.5)["met"] is False
    assert verdict(600.0, 140.0, 1000.0, 0.5)["met"] is False
    assert verdict(250.0, 100.0, 1000.0, 0.2)["met"] is True
    assert verdict(10.0, 1.0, 0.0, 0.2) == {"ratio": 0.0, "target": 0.2, "met": False}


def test_a_run_where_nothing_answered_in_time_has_no_latency():
    nothing = """\
Running 10s test @ http://127.0.0.1:40000/public/draws/DRAW-2026-0001
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 10.04s, 0.00B read
  Socket errors: connect 0, read 0, write 0, timeout 32
Requests/sec:      0.00
Transfer/sec:       0.00B
"""
    figures = parse_wrk(nothing)
    assert figures["requests"] == 0 and figures["rps"] == 0.0
    assert figures["p99_ms"] is None
    assert figures["socket_errors"]["timeout"] == 32
    assert verdict(figures["rps"], figures["p99_ms"], 1000.0, 0.5)["met"] is False


def test_errors_miss_the_target():
    assert verdict(900.0, 20.0, 1000.0, 0.5, errors=True)["met"] is False
