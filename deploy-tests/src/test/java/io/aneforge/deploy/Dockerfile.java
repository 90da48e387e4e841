package io.aneforge.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A module's Dockerfile, read as instructions (continuation lines joined, comments dropped). */
record Dockerfile(String module, String text, List<String> instructions) {

    static Dockerfile of(String module) {
        String text = Repository.read(module + "/Dockerfile");
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : text.split("\n")) {
            String trimmed = line.strip();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
            } else {
                current.append(trimmed);
                if (current.length() > 0) {
                    instructions.add(current.toString().replaceAll("\\s+", " ").strip());
                }
                current.setLength(0);
            }
        }
        return new Dockerfile(module, text, instructions);
    }

    /** Images of the FROM lines, without stage names. */
    List<String> baseImages() {
        List<String> out = new ArrayList<>();
        for (String i : instructions) {
            if (i.startsWith("FROM ")) {
                out.add(i.substring(5).split(" ")[0]);
            }
        }
        return out;
    }

    /** Sources of COPY lines that read the build context (not --from another stage). */
    List<String> copiedFromContext() {
        List<String> out = new ArrayList<>();
        for (String i : instructions) {
            if (i.startsWith("COPY ") && !i.contains("--from=")) {
                String[] parts = i.substring(5).split(" ");
                for (int k = 0; k < parts.length - 1; k++) {
                    out.add(parts[k]);
                }
            }
        }
        return out;
    }

    /** ENV assignments (NAME=value form), quotes removed. */
    Map<String, String> env() {
        Map<String, String> out = new LinkedHashMap<>();
        Pattern assignment = Pattern.compile("(\\w+)=(\"[^\"]*\"|\\S+)");
        for (String i : instructions) {
            if (i.startsWith("ENV ")) {
                Matcher m = assignment.matcher(i.substring(4));
                while (m.find()) {
                    out.put(m.group(1), m.group(2).replace("\"", ""));
                }
            }
        }
        return out;
    }
}
