#!/usr/bin/env python3
"""Regenerates the demo CSV files next to this script, deterministically (fixed seed).

customers.csv  1,200 customers: names in many scripts, countries, optional phone (NULLs)
orders.csv     5,000 orders: money, statuses, timestamps, free-text notes with commas/quotes
events.csv     8,000 web events: JSON-ish payloads, empty fields, booleans
"""
import csv
import datetime as dt
import os
import random

rng = random.Random(20261122)
here = os.path.dirname(os.path.abspath(__file__))

first = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret",
         "Linus", "Yukihiro", "Guido", "Sofía", "Zoë", "José", "Łukasz", "Björn", "Chloé",
         "Ngozi", "Aarav", "Mei", "Hiroshi", "Olga", "Søren", "İlkay", "Nguyễn", "Fatima"]
last = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson",
        "Hamilton", "Torvalds", "Matsumoto", "van Rossum", "García", "Müller", "Kowalski",
        "Ångström", "O'Brien", "Okafor", "Sharma", "王", "山田", "Иванова", "Jørgensen"]
countries = ["US", "GB", "DE", "FR", "JP", "BR", "IN", "NG", "PL", "SE", "CN", "ES", "TR", "VN"]
statuses = ["pending", "paid", "shipped", "delivered", "refunded", "cancelled"]
notes = ["", "", "", "gift wrap, please", 'customer said "urgent"', "leave at door; ring twice",
         "fragile — handle with care", "📦 split into 2 parcels", "配達は午前中", "call before delivery",
         "multi-line note:\nsecond line"]
pages = ["/", "/pricing", "/docs", "/docs/query", "/login", "/signup", "/blog/read-only-sql"]
agents = ["firefox", "chrome", "safari", "curl", "tdb"]

start = dt.datetime(2026, 1, 1, 0, 0, 0)

with open(os.path.join(here, "customers.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "name", "email", "country", "phone", "signed_up", "vip"])
    for i in range(1, 1201):
        fn, ln = rng.choice(first), rng.choice(last)
        email = f"{fn.lower()}.{i}@example.com".replace(" ", "")
        phone = "" if rng.random() < 0.3 else f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        signed = (start - dt.timedelta(days=rng.randint(0, 900))).date().isoformat()
        w.writerow([i, f"{fn} {ln}", email, rng.choice(countries), phone, signed, "true" if rng.random() < 0.1 else "false"])

with open(os.path.join(here, "orders.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "customer_id", "total", "currency", "status", "created_at", "shipped_at", "note"])
    for i in range(1, 5001):
        created = start + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 320))
        status = rng.choice(statuses)
        shipped = ""
        if status in ("shipped", "delivered"):
            shipped = (created + dt.timedelta(hours=rng.randint(2, 96))).isoformat(sep=" ")
        total = f"{rng.randint(100, 250000) / 100:.2f}"
        w.writerow([i, rng.randint(1, 1200), total, rng.choice(["EUR", "USD", "GBP", "JPY"]),
                    status, created.isoformat(sep=" "), shipped, rng.choice(notes)])

with open(os.path.join(here, "events.csv"), "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerow(["id", "at", "customer_id", "page", "agent", "duration_ms", "bounced", "payload"])
    for i in range(1, 8001):
        at = start + dt.timedelta(seconds=rng.randint(0, 86400 * 320))
        cust = "" if rng.random() < 0.25 else rng.randint(1, 1200)
        payload = '{"ref": "%s", "ab": "%s"}' % (rng.choice(["ads", "mail", "", "hn"]), rng.choice("AB"))
        w.writerow([i, at.isoformat(sep=" "), cust, rng.choice(pages), rng.choice(agents),
                    rng.randint(5, 120000), "true" if rng.random() < 0.3 else "false", payload])
