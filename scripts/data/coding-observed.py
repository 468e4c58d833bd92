#!/usr/bin/env python3
"""Writes examples/data/coding-observed.csv: the observed flows (mtok per month) of
coding.market's 9 users on its 13 models, from the OpenRouter snapshot's
coding-market.csv (tokens / 10^6, rounded to whole mtok; apps outside the 8 named ones pooled
into other_apps). Run from the repository root with the shared data beside it:

    python3 scripts/data/coding-observed.py ../shared/data/openrouter-2026-08/coding-market.csv
"""
import csv
import sys

MODELS = [
    ("deepseek-v4-flash-0731", "deepseek/deepseek-v4-flash-0731"),
    ("hy3", "tencent/hy3"),
    ("deepseek-v4-flash", "deepseek/deepseek-v4-flash"),
    ("glm-5_2", "z-ai/glm-5.2"),
    ("glm-5_3-flash", "z-ai/glm-5.3-flash"),
    ("step-3_7-flash", "stepfun/step-3.7-flash"),
    ("gpt-5_6-luna", "openai/gpt-5.6-luna"),
    ("deepseek-v4-pro", "deepseek/deepseek-v4-pro"),
    ("gpt-5_6-sol", "openai/gpt-5.6-sol"),
    ("claude-opus-5", "anthropic/claude-opus-5"),
    ("minimax-m3", "minimax/minimax-m3"),
    ("solar-pro4", "upstage/solar-pro4"),
    ("kimi-k3", "moonshotai/kimi-k3"),
]
USERS = [
    ("hermes_agent", "Hermes Agent"),
    ("claude_code", "Claude Code"),
    ("cline", "Cline"),
    ("pi", "pi"),
    ("kilo_code", "Kilo Code"),
    ("codex", "Codex"),
    ("openclaw", "OpenClaw"),
    ("omp", "omp"),
]

tokens = {}
for row in csv.DictReader(open(sys.argv[1])):
    named = {app: user for user, app in USERS}
    user = named.get(row["app"], "other_apps")
    tokens[(user, row["model"])] = tokens.get((user, row["model"]), 0) + int(row["total_tokens"])

out = csv.writer(open("examples/data/coding-observed.csv", "w", newline=""), lineterminator="\n")
out.writerow(["user"] + [name for name, _ in MODELS])
for user in [u for u, _ in USERS] + ["other_apps"]:
    out.writerow([user] + [round(tokens.get((user, model), 0) / 1e6) for _, model in MODELS])
