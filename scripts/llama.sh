# llama.cpp's own OpenAI-compatible server (`llama-server`), llama-cpp-python's (`python -m
# llama_cpp.server`, over the same llama.cpp build) and a tiny model for both; source it.
#
# No prebuilt binary and no model weights can be downloaded here, so:
# - llama.cpp's sources come from the llama-cpp-python sdist on PyPI (it vendors llama.cpp),
#   and `llama-server` and llama.cpp's shared libraries are built from them with cmake and ninja
#   from PyPI, once per machine (7-15 minutes on 2 cores), under $FABSTIR_CACHE/llama (outside
#   the clone);
# - llama-cpp-python is installed from the same sdist into a virtualenv of its own without
#   building llama.cpp a second time (its CMake option LLAMA_BUILD=OFF): it loads the libraries
#   above (LLAMA_CPP_LIB_PATH), the very llama.cpp its Python bindings were written for;
# - the model is made by scripts/make-tiny-model.py: a llama-architecture GGUF of a few MB with
#   weights from a fixed seed and llama.cpp's own 32,000-token SentencePiece vocabulary. Its
#   text is meaningless, but every token of it comes from a real model server.
LLAMA_CPP_PYTHON_VERSION=0.3.36
LLAMA_DIR="$FABSTIR_CACHE/llama"
# llama-server and the shared libraries it and llama-cpp-python load (RUNPATH $ORIGIN).
LLAMA_BIN="$LLAMA_DIR/bin-$LLAMA_CPP_PYTHON_VERSION"
LLAMA_SERVER="$LLAMA_BIN/llama-server"
LLAMA_VENV="$LLAMA_DIR/venv"
LLAMA_PY_VENV="$LLAMA_DIR/py-$LLAMA_CPP_PYTHON_VERSION"
LLAMA_MODEL="$LLAMA_DIR/tiny-llama.gguf"

# Builds llama-server, installs llama-cpp-python's server and makes the model, each unless it is
# already there.
llama_install() {
  mkdir -p "$LLAMA_DIR"
  if [ ! -x "$LLAMA_VENV/bin/python" ] || ! "$LLAMA_VENV/bin/python" -c 'import gguf, numpy' 2>/dev/null; then
    log "llama.cpp: a virtualenv with gguf, numpy, cmake and ninja (PyPI)"
    python3 -m venv "$LLAMA_VENV"
    "$LLAMA_VENV/bin/pip" install -q --disable-pip-version-check 'gguf==0.17.1' 'numpy<3' 'cmake<5' ninja
  fi
  local src="$LLAMA_DIR/src-$LLAMA_CPP_PYTHON_VERSION"
  if [ ! -d "$src/vendor/llama.cpp" ]; then
    log "llama.cpp: the sources (llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist from PyPI)"
    local dl="$LLAMA_DIR/download"
    rm -rf "$dl" && mkdir -p "$dl"
    "$LLAMA_VENV/bin/pip" download -q --disable-pip-version-check --no-deps \
      --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$dl"
    rm -rf "$src.part" && mkdir -p "$src.part"
    tar -xzf "$dl"/llama_cpp_python-*.tar.gz -C "$src.part" --strip-components=1
    mv "$src.part" "$src" && rm -rf "$dl"
  fi
  if [ ! -x "$LLAMA_SERVER" ] || [ ! -f "$LLAMA_BIN/libllama.so" ]; then
    log "llama.cpp: building llama-server and its libraries (7-15 minutes on 2 cores, once per machine)"
    local build="$LLAMA_DIR/build-$LLAMA_CPP_PYTHON_VERSION"
    # LLAMA_USE_PREBUILT_UI=OFF: the build would otherwise download a web UI; no CURL: the
    # server never fetches models here. Shared libraries, found next to whatever loads them
    # ($ORIGIN), so that llama-cpp-python loads the same llama.cpp as llama-server runs.
    PATH="$LLAMA_VENV/bin:$PATH" cmake -S "$src/vendor/llama.cpp" -B "$build" -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_CURL=OFF \
      -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DGGML_NATIVE=ON -DBUILD_SHARED_LIBS=ON \
      '-DCMAKE_BUILD_RPATH=$ORIGIN' >"$LLAMA_DIR/cmake.log" 2>&1 ||
      { tail -30 "$LLAMA_DIR/cmake.log"; return 1; }
    PATH="$LLAMA_VENV/bin:$PATH" nice -n 5 cmake --build "$build" --target llama-server llama -j 2 \
      >"$LLAMA_DIR/build.log" 2>&1 || { tail -30 "$LLAMA_DIR/build.log"; return 1; }
    rm -rf "$LLAMA_BIN.part" && mkdir -p "$LLAMA_BIN.part"
    cp -P "$build"/bin/llama-server "$build"/bin/lib*.so* "$LLAMA_BIN.part/"
    rm -rf "$LLAMA_BIN" && mv "$LLAMA_BIN.part" "$LLAMA_BIN"
    rm -rf "$build" "$LLAMA_DIR/llama-server-$LLAMA_CPP_PYTHON_VERSION"
  fi
  # Its dependencies are pinned (llama-py-constraints.txt); a change of the pins installs again.
  local pins pinned
  pins="$(dirname "${BASH_SOURCE[0]}")/llama-py-constraints.txt"
  pinned="$(sha256sum "$pins" | cut -c1-16)"
  if [ "$(cat "$LLAMA_PY_VENV/.pins" 2>/dev/null)" != "$pinned" ] || ! llama_py_loads 2>/dev/null; then
    log "llama-cpp-python: its server in a virtualenv, over the llama.cpp libraries above (PyPI; a minute)"
    rm -rf "$LLAMA_PY_VENV"
    python3 -m venv "$LLAMA_PY_VENV"
    # pip caches what it builds and fetches outside the clone (~/.cache/pip).
    CMAKE_ARGS="-DLLAMA_BUILD=OFF" "$LLAMA_PY_VENV/bin/pip" install -q --disable-pip-version-check \
      -c "$pins" "$src[server]" >"$LLAMA_DIR/pip.log" 2>&1 || { tail -30 "$LLAMA_DIR/pip.log"; return 1; }
    llama_py_loads || { echo "llama-cpp-python does not load $LLAMA_BIN/libllama.so" >&2; return 1; }
    echo "$pinned" >"$LLAMA_PY_VENV/.pins"
  fi
  local maker
  maker="$(dirname "${BASH_SOURCE[0]}")/make-tiny-model.py"
  # The model is remade when the script that makes it changes.
  local stamp
  stamp="$(sha256sum "$maker" | cut -c1-16)"
  if [ "$(cat "$LLAMA_MODEL.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "llama.cpp: making the tiny model (seeded, a few seconds)"
    "$LLAMA_VENV/bin/python" "$maker" \
      --vocab "$src/vendor/llama.cpp/models/ggml-vocab-llama-spm.gguf" --out "$LLAMA_MODEL"
    echo "$stamp" >"$LLAMA_MODEL.stamp"
  fi
}

# Whether llama-cpp-python's server imports, its llama.cpp libraries loaded.
llama_py_loads() {
  LLAMA_CPP_LIB_PATH="$LLAMA_BIN" "$LLAMA_PY_VENV/bin/python" -c 'import llama_cpp.server.app'
}

# llama_start NAME PORT SLOTS [EXTRA ARGS...]: starts llama-server on 127.0.0.1:PORT running SLOTS
# generations at once, beside the test nodes (its pid and command where nodes_stop and
# scripts/fault-control.py find them), and waits until it answers /health.
llama_start() {
  local name="$1" port="$2" slots="$3"
  shift 3
  # One thread per generation and 2,048 tokens of context per slot keep it light beside the
  # browsers; `-a tiny-llama` names the model in its answers; /metrics counts generated tokens.
  llama_launch "$name" "http://127.0.0.1:$port/health" "$LLAMA_SERVER" -m "$LLAMA_MODEL" \
    -a tiny-llama --host 127.0.0.1 --port "$port" -c $((2048 * slots)) -np "$slots" -t 1 -tb 1 \
    --no-webui --metrics "$@"
}

# llama_py_start NAME PORT [EXTRA ARGS...]: starts llama-cpp-python's server on 127.0.0.1:PORT
# (one generation at a time, 2,048 tokens of context, one thread) the same way, and waits until
# it answers /v1/models.
llama_py_start() {
  local name="$1" port="$2"
  shift 2
  llama_launch "$name" "http://127.0.0.1:$port/v1/models" env LLAMA_CPP_LIB_PATH="$LLAMA_BIN" \
    "$LLAMA_PY_VENV/bin/python" -m llama_cpp.server --model "$LLAMA_MODEL" \
    --model_alias tiny-llama --host 127.0.0.1 --port "$port" --n_ctx 2048 --n_threads 1 \
    --n_threads_batch 1 --verbose False "$@"
}

# llama_launch NAME READY_URL COMMAND...: runs a model server beside the test nodes and waits
# (60 s at most) until READY_URL answers.
llama_launch() {
  local name="$1" ready="$2"
  shift 2
  local dir="$FABSTIR_CACHE/nodes"
  mkdir -p "$dir"
  "$@" >"$dir/$name.out" 2>"$dir/$name.log" &
  NODE_PIDS+=("$!")
  echo "$!" >"$dir/$name.pid"
  printf '%s\0' "$@" >"$dir/$name.cmd"
  # scripts/fault-control.py restarts it and waits for this URL (it prints no "ready").
  echo "$ready" >"$dir/$name.health"
  local _
  for _ in $(seq 1 600); do
    if curl -sf "$ready" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$!" 2>/dev/null; then
      echo "model server $name exited early:" >&2; tail -20 "$dir/$name.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "model server $name did not answer $ready within 60 s:" >&2; tail -20 "$dir/$name.log" >&2
  return 1
}
