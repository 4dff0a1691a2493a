#!/usr/bin/env bash
# make android-check: compile both modules of android_app/ against the API 23 android.jar and the LiteRT API jar, run the
# core's JUnit 5 tests against tests/golden, and assemble a debug APK (aapt2, dx, zipalign, apksigner) whose contents are
# then checked. No Android SDK or Gradle is used (none is obtainable here): this is a build check, not the installable app.
set -euo pipefail
SECONDS=0

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
APP="$REPO/android_app"
SHARED="${FACEKIT_SHARED:-$REPO/../shared}/android"
GOLDEN="${FACEKIT_GOLDEN:-$REPO/tests/golden}"
EXPORT="$REPO/exports/android"
ASSETS="$APP/app/src/main/assets"
OUT="$REPO/build/android"
JUNIT=/usr/share/java/junit-platform-console-standalone.jar
KOTLIN_STDLIB=/usr/share/java/kotlin-stdlib.jar
DEBS="libandroid-23-java_6.0.1+r72-6_all.deb:8af1b6df556971dda0a6da3536ea526a838e0c363afcdd454213d8bce94793e3
dalvik-exchange_10.0.0+r36-1_all.deb:8fc128db7c27253d963eb9b33de79b197162a4749d2ba69019b2fd0664cbd7fe"
LITERT_JAR="$SHARED/litert-api/litert-api-2.2.0.jar"
LITERT_SHA=e7e6197a0d61a1ce08a9c51b25885e3b73bca0374bd66dce2fcd2a61e4117b15

say() { echo "android-check: $*"; }
fail() { echo "android-check: FAILED: $*" >&2; exit 1; }

if [ ! -d "$SHARED" ]; then
    say "skipped: $SHARED is absent (it holds the API 23 android.jar, the dx dexer and the LiteRT API jar, which no registry here provides)"
    exit 0
fi
[ -f "$GOLDEN/contract.json" ] || fail "$GOLDEN/contract.json is missing: the core tests replay the committed goldens"
if [ ! -f "$ASSETS/manifest.json" ] || [ ! -f "$EXPORT/manifest.json" ]; then
    [ -n "${FACEKIT_EXPORT:-}" ] || fail "$ASSETS or $EXPORT has no manifest.json: run \`make export TARGET=android\` first"
    say "no android export yet: $FACEKIT_EXPORT"
    $FACEKIT_EXPORT
fi

# --- tools: Debian packages (installed when missing and we may), the .debs of ../shared/android (sha256 checked) ---
missing=()
for tool in javac java aapt2 zipalign apksigner kotlinc keytool zip; do command -v "$tool" >/dev/null || missing+=("$tool"); done
[ -f "$JUNIT" ] || missing+=(junit5)
if [ ${#missing[@]} -gt 0 ]; then
    packages="default-jdk-headless aapt zipalign apksigner kotlin junit5 zip"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing ${missing[*]} (apt-get install $packages)"
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null \
            || fail "apt-get could not install $packages"
    else
        say "skipped: missing ${missing[*]}; install them with: sudo apt-get install --no-install-recommends $packages"
        exit 0
    fi
fi
mkdir -p "$OUT/sdk"
while read -r entry; do
    deb="$SHARED/debs/${entry%%:*}"
    stamp="$OUT/sdk/${entry%%:*}.ok"
    if [ ! -f "$stamp" ]; then
        echo "${entry##*:}  $deb" | sha256sum -c --quiet - || fail "$deb does not have the recorded sha256"
        dpkg-deb -x "$deb" "$OUT/sdk" && touch "$stamp"
    fi
done <<< "$DEBS"
echo "$LITERT_SHA  $LITERT_JAR" | sha256sum -c --quiet - || fail "$LITERT_JAR does not have the recorded sha256"
ANDROID_JAR="$OUT/sdk/usr/share/java/com.android.android-23.jar"
DX_JAR="$OUT/sdk/usr/share/java/com.android.dx-10.0.0.jar"

# --- app facts, read from the Gradle file so they are written once ---
gradle_value() { sed -n "s/^ *$1 = \"\{0,1\}\([^\"]*\)\"\{0,1\}$/\1/p" "$APP/app/build.gradle.kts" | head -1; }
PACKAGE="$(gradle_value namespace)"
MIN_SDK="$(gradle_value minSdk)"
TARGET_SDK="$(gradle_value targetSdk)"
VERSION_CODE="$(gradle_value versionCode)"
VERSION_NAME="$(gradle_value versionName)"

rm -rf "$OUT/classes" "$OUT/apk" && mkdir -p "$OUT/classes/core" "$OUT/classes/core-test" "$OUT/classes/app" "$OUT/apk/gen"

# --- core: Java 8 (dx takes it as it is), no Android imports ---
if grep -rnE '(^import |[^.[:alnum:]])(android|androidx)\.[a-z]' "$APP/core/src/main"; then fail "the core module must not use Android classes"; fi
javac --release 8 -Xlint:all,-options -Werror -d "$OUT/classes/core" $(find "$APP/core/src/main/java" -name '*.java')
javac -d "$OUT/classes/core-test" -cp "$OUT/classes/core:$JUNIT" $(find "$APP/core/src/test/java" -name '*.java')
say "core compiled; running its JUnit 5 tests against $GOLDEN"
set +e
java -Dfacekit.golden="$GOLDEN" -Dfacekit.manifest="$ASSETS/manifest.json" -jar "$JUNIT" --class-path "$OUT/classes/core:$OUT/classes/core-test" --scan-class-path \
    --fail-if-no-tests --disable-banner --disable-ansi-colors --details=summary > "$OUT/junit.txt" 2>&1
junit_status=$?
set -e
passed=$(sed -n 's/^\[ *\([0-9]*\) tests successful *\]$/\1/p' "$OUT/junit.txt")
failed=$(sed -n 's/^\[ *\([0-9]*\) tests failed *\]$/\1/p' "$OUT/junit.txt")
if [ "$junit_status" != 0 ]; then grep -E 'MethodSource|=>' "$OUT/junit.txt" | head -40 >&2 || cat "$OUT/junit.txt" >&2; fi
skipped=$(( $(sed -n 's/^\[ *\([0-9]*\) tests \(skipped\|aborted\) *\]$/\1+/p' "$OUT/junit.txt" | tr -d '\n') 0 ))
echo "${passed:-0} passed, ${failed:-0} failed$([ "${skipped:-0}" = 0 ] || echo ", $skipped skipped")"
[ "$junit_status" = 0 ] || fail "core tests (full output in $OUT/junit.txt)"

# --- resources and manifest: aapt2 links them against android.jar (the models stored uncompressed: -0 tflite) ---
sed "s|<manifest |<manifest package=\"$PACKAGE\" |" "$APP/app/src/main/AndroidManifest.xml" > "$OUT/apk/AndroidManifest.xml"
aapt2 compile --dir "$APP/app/src/main/res" -o "$OUT/apk/res.zip"
aapt2 link -I "$ANDROID_JAR" --manifest "$OUT/apk/AndroidManifest.xml" --min-sdk-version "$MIN_SDK" \
    --target-sdk-version "$TARGET_SDK" --version-code "$VERSION_CODE" --version-name "$VERSION_NAME" \
    -A "$ASSETS" -A "$GOLDEN" -0 .tflite --java "$OUT/apk/gen" -o "$OUT/apk/unsigned.apk" "$OUT/apk/res.zip"

# --- app: Kotlin (Debian's kotlinc; its stdlib dexes with dx as it is) against android.jar, LiteRT's API and core ---
javac --release 8 -nowarn -cp "$ANDROID_JAR" -d "$OUT/classes/app" $(find "$OUT/apk/gen" -name '*.java')
kotlinc -jvm-target 1.8 -no-jdk -no-reflect -Werror \
    -cp "$ANDROID_JAR:$LITERT_JAR:$OUT/classes/core:$OUT/classes/app" -d "$OUT/classes/app" "$APP/app/src/main/java" 2>&1 \
    | grep -v '^warning: .*kotlin-stdlib' || true
[ -f "$OUT/classes/app/com/facekit/demo/MainActivity.class" ] || fail "the app module did not compile"
say "both modules compiled; assembling the debug APK"

# --- dex (LiteRT's API jar is compile-only: never packaged), align, sign with a throwaway debug key ---
java -jar "$DX_JAR" --dex --min-sdk-version="$MIN_SDK" --output="$OUT/apk/classes.dex" \
    "$OUT/classes/app" "$OUT/classes/core" "$KOTLIN_STDLIB"
(cd "$OUT/apk" && zip -qj unsigned.apk classes.dex)
zipalign -f -p 4 "$OUT/apk/unsigned.apk" "$OUT/apk/aligned.apk"
[ -f "$OUT/debug.keystore" ] || keytool -genkeypair -keystore "$OUT/debug.keystore" -storepass android -keypass android \
    -alias debug -keyalg RSA -keysize 2048 -validity 10000 -dname "CN=FaceKit debug" >/dev/null 2>&1
apksigner sign --ks "$OUT/debug.keystore" --ks-pass pass:android --ks-key-alias debug \
    --out "$REPO/build/facekit-demo-debug.apk" "$OUT/apk/aligned.apk"
apksigner verify "$REPO/build/facekit-demo-debug.apk"
zipalign -c -p 4 "$REPO/build/facekit-demo-debug.apk"

# --- what the APK holds ---
aapt2 dump badging "$REPO/build/facekit-demo-debug.apk" > "$OUT/badging.txt"
python3 "$APP/tools/check_apk.py" "$REPO/build/facekit-demo-debug.apk" "$OUT/badging.txt" "$EXPORT" "$PACKAGE"
say "OK in ${SECONDS} s: build/facekit-demo-debug.apk (a build check: it lacks LiteRT, so it cannot run inference; the app comes from Gradle)"
