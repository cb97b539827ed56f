#!/usr/bin/env bash
# curl against a running gateway:  tokenfactory serve --api-key tf-local-example &
set -euo pipefail
BASE="${TOKENFACTORY_BASE_URL:-http://127.0.0.1:8000/v1}"
KEY="${TOKENFACTORY_API_KEY:-tf-local-example}"

curl -sS "$BASE/models" -H "Authorization: Bearer $KEY"
echo

curl -sS -X POST "$BASE/chat/completions" \
  -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d '{
    "model": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "messages": [
      {"role": "system", "content": "You are a helpful assistant."},
      {"role": "user", "content": "What is machine learning?"}
    ],
    "max_tokens": 60,
    "temperature": 0.7
  }'
echo

# streaming: server-sent events, ending with data: [DONE]
curl -sS -N -X POST "$BASE/chat/completions?api_key=$KEY" \
  -H "Content-Type: application/json" \
  -d '{"model": "HuggingFaceTB/SmolLM2-135M-Instruct",
       "messages": [{"role": "user", "content": "Say hello"}], "max_tokens": 20, "stream": true}'

curl -sS -X POST "$BASE/embeddings" \
  -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d '{"model": "sentence-transformers/all-MiniLM-L6-v2",
       "input": "The quick brown fox jumps over the lazy dog."}' | head -c 300
echo
