#!/usr/bin/env bash
# Local stand-ins for the base images that `bullmq-codegen deploy docker`'s Dockerfile and
# tests/deploy/test_docker.py use, for a machine whose Docker engine reaches no image registry
# (but reaches Debian's package mirror). Each is tagged with the exact name the Dockerfile and
# the test pull, so that `docker build` and `docker run` find it locally:
#
#   python:<3.11>-slim           Debian bookworm (minbase) + python3 (3.11) and ca-certificates,
#                                /usr/local/bin/python{,3} -> /usr/bin/python3.11
#   ghcr.io/astral-sh/uv:<ver>   scratch + this machine's uv at /uv (and /uvx); <ver> must be the
#                                version UV_IMAGE_VERSION in src/bullmq_codegen/deploy/render.py
#   redis:7                      Debian bookworm (minbase) + redis-server (7.0), run as `redis`,
#                                listening on all interfaces, protected mode off
#
# The root filesystems come from debootstrap (installed with apt-get when missing) and are cached
# as tarballs under ~/.cache/bullmq-codegen/docker-rootfs/; rerunning re-imports nothing whose
# stand-in is already there. An image of one of these names that is not a stand-in (a real one,
# pulled) is left alone. Run as root (debootstrap needs it):
#
#   bash bench/docker/local_base_images.sh            # build what is missing
#   bash bench/docker/local_base_images.sh --rebuild  # re-import the stand-ins (cache kept;
#                                                     # delete it for fresh Debian packages)
#
# Not what the official images are (those are built from source, and python:*-slim has pip): a
# stand-in only has what the generated Dockerfile and the test use. uv's is this machine's binary
# (linked to glibc, unlike the official static one): it runs in the Python image the Dockerfile
# copies it into, not in its own scratch image. The Python stand-in trusts this machine's extra
# certificate authorities (/usr/local/share/ca-certificates, through SSL_CERT_FILE), so that uv
# in a build reaches PyPI where the machine's egress re-signs TLS.
set -euo pipefail

cd "$(dirname "$0")/../.."
REBUILD=0
[[ "${1:-}" == "--rebuild" ]] && REBUILD=1

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/bullmq-codegen/docker-rootfs"
LABEL=org.bullmq-codegen.stand-in
UV_VERSION="$(sed -n 's/^UV_IMAGE_VERSION = "\(.*\)"$/\1/p' src/bullmq_codegen/deploy/render.py)"
PYTHON_TAG=python:3.11-slim
UV_TAG="ghcr.io/astral-sh/uv:${UV_VERSION}"
REDIS_TAG=redis:7
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "local_base_images: $*" >&2; exit 1; }

[[ -n "$UV_VERSION" ]] || die "no UV_IMAGE_VERSION in src/bullmq_codegen/deploy/render.py"
docker info > /dev/null 2>&1 || die "no Docker engine answers (docker info fails)"
[[ "$(id -u)" == 0 ]] || die "run as root: debootstrap needs it"

# Whether to import $1: not when a stand-in is there (unless --rebuild), never over a real image.
wanted() {
    local tag="$1" label
    if ! docker image inspect "$tag" > /dev/null 2>&1; then
        return 0
    fi
    label="$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)"
    if [[ -z "$label" || "$label" == "<no value>" ]]; then
        echo "kept    $tag (a real image, not a stand-in)"
        return 1
    fi
    if [[ "$REBUILD" == 1 ]]; then
        return 0
    fi
    echo "present $tag ($label)"
    return 1
}

# The cached tarball of a bookworm minbase root filesystem with the packages $2..., named $1.
rootfs() {
    local name="$1" tarball="$CACHE/$1.tar" dir
    shift
    if [[ ! -s "$tarball" ]]; then
        command -v debootstrap > /dev/null || {
            apt-get update -q > /dev/null
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap > /dev/null
        }
        mkdir -p "$CACHE"
        dir="$(mktemp -d "$CACHE/$name.XXXXXX")"
        echo "debootstrap $SUITE ($*) into $dir" >&2
        debootstrap --variant=minbase --include="$(IFS=,; echo "$*")" "$SUITE" "$dir" "$MIRROR" \
            > "$dir.log" 2>&1 || die "debootstrap failed: see $dir.log"
        # what an image does not need: the package lists and caches, the documentation
        rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
            "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
        "${FINISH[@]}" "$dir"
        tar -C "$dir" --numeric-owner -cf "$tarball.part" .
        mv "$tarball.part" "$tarball"
        rm -rf "$dir" "$dir.log"
    fi
    echo "$tarball"
}

finish_python() {
    ln -sf /usr/bin/python3.11 "$1/usr/local/bin/python3"
    ln -sf /usr/bin/python3.11 "$1/usr/local/bin/python"
    # This machine's own certificate authorities (a machine whose egress re-signs TLS has its
    # CA there): uv in the build trusts what the host trusts, through SSL_CERT_FILE.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/"
        chroot "$1" update-ca-certificates > /dev/null
    fi
}

finish_redis() {
    chroot "$1" sh -c 'mkdir -p /data && chown redis:redis /data'
}

stand_in="$(sha256sum "$0" | cut -c1-12)"  # which script version built it

# docker import "$@" (the tag last), then remove the stand-in it replaced (--rebuild)
import_image() {
    local tag="${*: -1}" old
    old="$(docker image inspect -f '{{.Id}}' "$tag" 2>/dev/null || true)"
    docker import --change "LABEL $LABEL=$stand_in" "$@" > /dev/null
    if [[ -n "$old" && "$old" != "$(docker image inspect -f '{{.Id}}' "$tag")" ]]; then
        docker rmi "$old" > /dev/null 2>&1 || echo "(the replaced $tag, $old, is still in use)"
    fi
}

if wanted "$PYTHON_TAG"; then
    FINISH=(finish_python)
    tarball="$(rootfs python3.11-"$SUITE" python3 ca-certificates)"
    PYTHON_CHANGES=()
    if tar -tf "$tarball" | grep -c '^\./usr/local/share/ca-certificates/.*\.crt$' > /dev/null; then
        PYTHON_CHANGES=(--change "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
    fi
    import_image \
        --change "ENV PATH=$PATH_ENV" --change "ENV LANG=C.UTF-8" \
        "${PYTHON_CHANGES[@]}" \
        --change 'CMD ["python3"]' \
        "$tarball" "$PYTHON_TAG"
    echo "built   $PYTHON_TAG: $(docker run --rm "$PYTHON_TAG" python --version) from $tarball"
fi

if wanted "$UV_TAG"; then
    uv="$(command -v uv)" || die "no uv on PATH"
    if [[ "$(head -c2 "$uv")" == "#!" ]]; then
        uv="$(pyenv which uv)" || die "$uv is a script (a shim?), not uv's binary"
    fi
    found="$("$uv" --version | cut -d' ' -f2)"
    [[ "$found" == "$UV_VERSION" ]] || die "uv on PATH is $found, the Dockerfile copies $UV_VERSION"
    work="$(mktemp -d)"
    cp "$uv" "$work/uv"
    [[ -x "$(dirname "$uv")/uvx" ]] && cp "$(dirname "$uv")/uvx" "$work/uvx"
    tar -C "$work" -c . | import_image - "$UV_TAG"
    rm -rf "$work"
    echo "built   $UV_TAG: scratch + $uv ($found) at /uv"
fi

if wanted "$REDIS_TAG"; then
    FINISH=(finish_redis)
    tarball="$(rootfs redis-"$SUITE" redis-server)"
    import_image \
        --change "ENV PATH=$PATH_ENV" --change "USER redis" --change "WORKDIR /data" \
        --change "EXPOSE 6379" \
        --change 'CMD ["redis-server", "--protected-mode", "no"]' \
        "$tarball" "$REDIS_TAG"
    echo "built   $REDIS_TAG: $(docker run --rm "$REDIS_TAG" redis-server --version) from $tarball"
fi
