# Sourced by ./chorus and .ci/run: sets JAVA_HOME to a JDK 25 or newer, or explains what to do.
# Order: $JAVA_HOME, the usual JVM folders, then `java` on PATH.

chorus_java_major() {
  # Prints the feature version of the java binary given, or nothing.
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

chorus_find_jdk25() {
  local candidates=() c v
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  for c in /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
           /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  if command -v java >/dev/null 2>&1; then
    c=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
    candidates+=("$c")
  fi
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ] || continue
    v=$(chorus_java_major "$c/bin/java")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      export JAVA_HOME="$c"
      return 0
    fi
  done
  cat >&2 <<MSG
chorus: no JDK 25 found.
  Chorus needs a JDK 25 or newer (Vector API and FFM). Looked in \$JAVA_HOME, /usr/lib/jvm and the java on PATH.
  Install one (for example Temurin 25: apt-get install temurin-25-jdk, or https://adoptium.net),
  then run again, or point JAVA_HOME at it: JAVA_HOME=/path/to/jdk-25 ./chorus ...
MSG
  return 1
}
