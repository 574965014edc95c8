#!/usr/bin/env python3
"""After the browser tests: reads the test nodes' Prometheus endpoints and checks that they
counted what the tests did (jobs by outcome, rejections, tokens, time to first token on host-b;
reservations, circuits and connections by transport on the relay). Prints the figures."""
import re
import sys
import urllib.request


def scrape(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values


def total(values, pattern):
    return sum(v for k, v in values.items() if re.fullmatch(pattern, k))


failures = []


def expect(label, value, minimum):
    print(f"  {label}: {value:g} (expected >= {minimum})")
    if value < minimum:
        failures.append(label)


host_b, relay = scrape(29129), scrape(29109)
print("host-b:")
expect("jobs completed", total(host_b, r'fabstir_jobs_total\{outcome="completed"\}'), 1)
expect("jobs cancelled", total(host_b, r'fabstir_jobs_total\{outcome="cancelled"\}'), 2)
expect("rejections price_too_low", total(host_b, r'fabstir_job_rejections_total\{reason="price_too_low"\}'), 1)
expect("tokens generated", total(host_b, r"fabstir_tokens_generated_total"), 2000)
expect("time to first token observations", total(host_b, r"fabstir_time_to_first_token_seconds_count"), 1)
print("relay:")
expect("reservations accepted", total(relay, r'libp2p_relay_events_total\{event="ReservationReqAccepted"\}'), 1)
expect("circuits accepted", total(relay, r'libp2p_relay_events_total\{event="CircuitReqAccepted"\}'), 1)
expect("websocket connections", total(relay, r'libp2p_swarm_connections_established_total\{.*protocols="/ip4/tcp/ws(/p2p)?"\}'), 1)
expect("webrtc-direct connections", total(relay, r'libp2p_swarm_connections_established_total\{.*protocols="/ip4/udp/webrtc-direct(/certhash/p2p)?"\}'), 1)
expect("websocket bytes in", total(relay, r'libp2p_bandwidth_bytes_total\{protocols="/ip4/tcp/ws(/p2p)?",direction="Inbound"\}'), 1)
if failures:
    sys.exit(f"metrics missing: {', '.join(failures)}")
