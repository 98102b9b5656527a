#!/usr/bin/env bats
# formats.bats: every format of a completed offline batch (issue 12).  Each
# file opens in a reader that is not ours (Assimp's `assimp info`, `admesh`
# for STL) with the triangle count of the GLB; STL and 3MF are in
# millimetres, print_height_mm high, standing on z = 0; the status lists
# formats, triangles and watertight; all.zip?format= streams one format
# for the whole batch (OBJ with its MTL and texture per model); and a
# conversion that crashes fails that format only.

load lib/server

setup_file() {
	command -v assimp >/dev/null && command -v admesh >/dev/null || {
		echo "assimp-utils and admesh are missing: run tools/deps" >&2
		return 1
	}
	i2m_start
	FIX="$PWD/tests/fixtures"
	ID=$(i2m_upload_id "$FIX/chair.png" "$FIX/sneaker.jpg" -F print_height_mm=80)
	export FIX ID
	i2m_wait_done "$ID" 120
	curl -s "$I2M_URL/api/v1/status/tasks/$ID/status" >"$BATS_FILE_TMPDIR/status.json"
}

teardown_file() {
	i2m_stop
}

setup() {
	BODY="$BATS_TEST_TMPDIR/body"
	HDR="$BATS_TEST_TMPDIR/hdr"
	ST="$BATS_FILE_TMPDIR/status.json"
}

# faces FILE: the triangle count `assimp info` reads from FILE.
faces() {
	assimp info "$1" 2>/dev/null | awk '/^Faces:/ { print $2 }'
}

# fetch NAME: download NAME of the batch into $BATS_TEST_TMPDIR/NAME.
fetch() {
	code=$(reqo "$BATS_TEST_TMPDIR/$1" "$I2M_URL/api/v1/download/$ID/$1")
	[ "$code" = 200 ] || { echo "GET $1: $code" >&2; return 1; }
}

@test "formats: status lists glb, obj, stl, 3mf, ply and fbx with size and url, triangles, watertight" {
	json_eq '[.files[].status] | unique | join(",")' completed "$ST"
	for i in 0 1; do
		json_eq "[.files[$i].formats[].name] | join(\",\")" glb,obj,stl,3mf,ply,fbx "$ST"
		json_eq ".files[$i].format_errors | length" 0 "$ST"
		json_eq ".files[$i].watertight" true "$ST"
		jq -e ".files[$i].triangles > 1000" "$ST" >/dev/null
		jq -e ".files[$i].formats | all(.size > 0 and (.url | test(\"^$I2M_URL/api/v1/download/$ID/\")))" "$ST" >/dev/null
	done
	json_eq '.files[0].formats[1].url' "$I2M_URL/api/v1/download/$ID/chair.obj.zip" "$ST"
	json_eq '.files[0].formats[0].size' "$(jq -r .files[0].file_size "$ST")" "$ST"
}

@test "formats: every file opens in assimp (STL in admesh) with the GLB's triangle count" {
	for stem in chair sneaker; do
		i=$([ $stem = chair ] && echo 0 || echo 1)
		want=$(jq -r ".files[$i].triangles" "$ST")
		fetch $stem.glb
		[ "$(faces "$BATS_TEST_TMPDIR/$stem.glb")" = "$want" ]
		for ext in stl ply fbx 3mf; do
			fetch $stem.$ext
			got=$(faces "$BATS_TEST_TMPDIR/$stem.$ext")
			[ "$got" = "$want" ] || { echo "$stem.$ext: $got triangles, want $want" >&2; false; }
		done
		run admesh "$BATS_TEST_TMPDIR/$stem.stl"
		[ "$status" -eq 0 ]
		echo "$output" | grep -q 'Binary STL file'
		[ "$(echo "$output" | awk '/^Number of facets/ { print $5 }')" = "$want" ]
		fetch $stem.obj.zip
		mkdir -p "$BATS_TEST_TMPDIR/$stem"
		unzip -q -d "$BATS_TEST_TMPDIR/$stem" "$BATS_TEST_TMPDIR/$stem.obj.zip"
		[ "$(faces "$BATS_TEST_TMPDIR/$stem/model.obj")" = "$want" ]
		grep -q '^map_Kd texture_0.png' "$BATS_TEST_TMPDIR/$stem/model.mtl"
		[ "$(head -c 4 "$BATS_TEST_TMPDIR/$stem/texture_0.png" | tail -c 3)" = PNG ]
	done
}

@test "formats: STL and 3MF are print_height_mm high, in mm, on z = 0 and centred" {
	fetch chair.stl
	run admesh "$BATS_TEST_TMPDIR/chair.stl"
	[ "$status" -eq 0 ]
	z=$(echo "$output" | sed -n 's/^Min Z = *\([-0-9.]*\), Max Z = *\([-0-9.]*\)$/\1 \2/p')
	x=$(echo "$output" | sed -n 's/^Min X = *\([-0-9.]*\), Max X = *\([-0-9.]*\)$/\1 \2/p')
	awk -v z="$z" -v x="$x" 'BEGIN { split(z, a, " "); split(x, b, " ");
		exit !(a[1] == 0 && a[2] > 79.999 && a[2] < 80.001 &&
			b[1] + b[2] < 0.001 && b[1] + b[2] > -0.001) }'
	fetch chair.3mf
	unzip -p "$BATS_TEST_TMPDIR/chair.3mf" 3D/3dmodel.model >"$BATS_TEST_TMPDIR/model.xml"
	grep -q '<model [^>]*unit="millimeter"' "$BATS_TEST_TMPDIR/model.xml"
	# The vertices' z run from 0 to the height.
	grep -o 'z="[-0-9.]*"' "$BATS_TEST_TMPDIR/model.xml" | tr -d 'z="' |
		sort -g | sed -n '1p;$p' >"$BATS_TEST_TMPDIR/zr"
	awk 'NR == 1 { lo = $1 } NR == 2 { hi = $1 }
		END { exit !(lo == 0 && hi > 79.999 && hi < 80.001) }' "$BATS_TEST_TMPDIR/zr"
}

@test "formats: the default print height is 100 mm" {
	id=$(i2m_upload_id "$FIX/sneaker.jpg")
	i2m_wait_done "$id" 120
	code=$(reqo "$BATS_TEST_TMPDIR/s.stl" "$I2M_URL/api/v1/download/$id/sneaker.stl")
	[ "$code" = 200 ]
	admesh "$BATS_TEST_TMPDIR/s.stl" | grep -qE '^Min Z = +0\.000000, Max Z = +100\.000000$'
}

@test "formats: a bad print_height_mm is refused at upload" {
	code=$(req -F "files=@$FIX/chair.png" -F print_height_mm=0 "$I2M_URL/api/v1/upload/")
	[ "$code" = 400 ]
	grep -q print_height_mm "$BODY"
}

@test "formats: all.zip?format=obj holds an OBJ, MTL and texture per model" {
	code=$(reqo "$BATS_TEST_TMPDIR/all.zip" "$I2M_URL/api/v1/download/$ID/all.zip?format=obj")
	[ "$code" = 200 ]
	unzip -Z1 "$BATS_TEST_TMPDIR/all.zip" | sort >"$BATS_TEST_TMPDIR/list"
	printf '%s\n' chair/model.mtl chair/model.obj chair/texture_0.png \
		sneaker/model.mtl sneaker/model.obj sneaker/texture_0.png |
		diff - "$BATS_TEST_TMPDIR/list"
	mkdir "$BATS_TEST_TMPDIR/x"
	unzip -q -d "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/all.zip"
	[ "$(faces "$BATS_TEST_TMPDIR/x/sneaker/model.obj")" = "$(jq -r .files[1].triangles "$ST")" ]
}

@test "formats: all.zip?format=stl, the default glb, and an unknown format" {
	code=$(reqo "$BATS_TEST_TMPDIR/s.zip" "$I2M_URL/api/v1/download/$ID/all.zip?format=stl")
	[ "$code" = 200 ]
	[ "$(unzip -Z1 "$BATS_TEST_TMPDIR/s.zip" | sort | tr '\n' ' ')" = "chair.stl sneaker.stl " ]
	code=$(reqo "$BATS_TEST_TMPDIR/g.zip" "$I2M_URL/api/v1/download/$ID/all.zip")
	[ "$code" = 200 ]
	[ "$(unzip -Z1 "$BATS_TEST_TMPDIR/g.zip" | sort | tr '\n' ' ')" = "chair.glb sneaker.glb " ]
	code=$(req "$I2M_URL/api/v1/download/$ID/all.zip?format=dwg")
	[ "$code" = 400 ]
	json_eq .error_code BAD_FORMAT
	code=$(req "$I2M_URL/api/v1/download/$ID/all.zip?format=usdz")
	[ "$code" = 404 ]
	json_eq .error_code FORMAT_NOT_AVAILABLE
	code=$(req "$I2M_URL/api/v1/download/$ID/chair.dwg")
	[ "$code" = 404 ]
}

@test "formats: a conversion that crashes fails that format only; the GLB and the rest stay" {
	i2m_stop_daemon
	I2M_FORMATS_FAIL=fbx i2m_start_daemon
	id=$(i2m_upload_id "$FIX/chair.png")
	i2m_wait_done "$id" 120
	i2m_stop_daemon
	i2m_start_daemon
	code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
	[ "$code" = 200 ]
	cp "$BODY" "$BATS_TEST_TMPDIR/st.json"
	json_eq '.files[0].status' completed
	json_eq '[.files[0].formats[].name] | join(",")' glb,obj,stl,3mf,ply
	json_eq '.files[0].format_errors[0].name' fbx
	jq -r '.files[0].format_errors[0].error' "$BODY" | grep -q 'crashed'
	code=$(req "$I2M_URL/api/v1/download/$id/chair.fbx")
	[ "$code" = 404 ]
	for n in chair.glb chair.stl chair.obj.zip chair.3mf chair.ply; do
		code=$(reqo "$BATS_TEST_TMPDIR/$n" "$I2M_URL/api/v1/download/$id/$n")
		[ "$code" = 200 ]
	done
	[ "$(faces "$BATS_TEST_TMPDIR/chair.glb")" = "$(jq -r .files[0].triangles "$BATS_TEST_TMPDIR/st.json")" ]
	# all.zip?format=fbx has nothing to give for this batch.
	code=$(req "$I2M_URL/api/v1/download/$id/all.zip?format=fbx")
	[ "$code" = 404 ]
}

@test "formats: the offline model's meshes are watertight in every mode, card included" {
	for mode in inflate lathe extrude relief card; do
		id=$(i2m_upload_id "$FIX/sneaker.jpg" -F mode=$mode -F resolution=48)
		i2m_wait_done "$id" 120
		code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
		[ "$code" = 200 ]
		json_eq '.files[0].status' completed
		json_eq '.files[0].watertight' true || { echo "mode $mode is not watertight" >&2; false; }
		# and the 3MF a slicer reads has the same triangles
		code=$(reqo "$BATS_TEST_TMPDIR/m.3mf" "$I2M_URL/api/v1/download/$id/sneaker.3mf")
		[ "$code" = 200 ]
		[ "$(faces "$BATS_TEST_TMPDIR/m.3mf")" = "$(jq -r .files[0].triangles "$BODY")" ]
	done
}

@test "formats: a GLB over 4 MB gets a light copy that validates (meshopt, textures <= 2048 px); small ones none" {
	json_eq '.files[0].preview_model' null "$ST"
	id=$(i2m_upload_id "$FIX/chair.png" -F mode=relief -F resolution=256)
	i2m_wait_done "$id" 180
	code=$(req "$I2M_URL/api/v1/status/tasks/$id/status")
	[ "$code" = 200 ]
	cp "$BODY" "$BATS_TEST_TMPDIR/st.json"
	json_eq '.files[0].status' completed "$BATS_TEST_TMPDIR/st.json"
	jq -e '.files[0].file_size > 4194304' "$BATS_TEST_TMPDIR/st.json"
	json_eq '.files[0].preview_model.url' "$I2M_URL/api/v1/download/$id/chair.web.glb" "$BATS_TEST_TMPDIR/st.json"
	code=$(reqo "$BATS_TEST_TMPDIR/web.glb" "$I2M_URL/api/v1/download/$id/chair.web.glb")
	[ "$code" = 200 ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/web.glb")" = "$(jq -r .files[0].preview_model.size "$BATS_TEST_TMPDIR/st.json")" ]
	jq -e '.files[0].preview_model.size < .files[0].file_size' "$BATS_TEST_TMPDIR/st.json"
	run node tests/tools/validate.js "$BATS_TEST_TMPDIR/web.glb"
	echo "$output"
	[ "$status" -eq 0 ]
	echo "$output" | grep -q 'errors=0 warnings=0'
	# The same triangles, meshopt-compressed; the texture at most 2048 px.
	[ "$(echo "$output" | sed -n 's/.*tris=\([0-9]*\).*/\1/p')" = "$(jq -r .files[0].triangles "$BATS_TEST_TMPDIR/st.json")" ]
	python3 - "$BATS_TEST_TMPDIR/web.glb" <<'PY'
import json, struct, sys
d = open(sys.argv[1], "rb").read()
jl = struct.unpack("<I", d[12:16])[0]
g = json.loads(d[20:20 + jl])
assert "EXT_meshopt_compression" in g.get("extensionsUsed", []), g.get("extensionsUsed")
b = d[20 + jl + 8:]
for im in g["images"]:
    v = g["bufferViews"][im["bufferView"]]
    px = b[v.get("byteOffset", 0):v.get("byteOffset", 0) + v["byteLength"]]
    if px[:8] == b"\x89PNG\r\n\x1a\n":
        w, h = struct.unpack(">II", px[16:24])
    else:  # JPEG: the first SOFn marker
        i = 2
        while px[i + 1] not in (0xC0, 0xC1, 0xC2):
            i += 2 + struct.unpack(">H", px[i + 2:i + 4])[0]
        h, w = struct.unpack(">HH", px[i + 5:i + 9])
    assert max(w, h) <= 2048, (w, h)
PY
	# Downloads stay the original.
	code=$(reqo "$BATS_TEST_TMPDIR/orig.glb" "$I2M_URL/api/v1/download/$id/chair.glb")
	[ "$code" = 200 ]
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/orig.glb")" = "$(jq -r .files[0].file_size "$BATS_TEST_TMPDIR/st.json")" ]
}
