package com.facekit.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small strict JSON reader (objects as Map, arrays as List, numbers as Double): keeps the core free of dependencies. */
public final class Json {
    private final String text;
    private int pos;

    private Json(String text) {
        this.text = text;
    }

    /** Parses one JSON document; throws IllegalArgumentException naming the offset of the first error. */
    public static Object parse(String text) {
        Json reader = new Json(text);
        Object value = reader.value();
        reader.skipSpace();
        if (reader.pos != text.length()) {
            throw reader.error("unexpected text after the document");
        }
        return value;
    }

    /** The object at key of an object, or an error naming the key. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> obj(Map<String, Object> parent, String key) {
        return (Map<String, Object>) require(parent, key, Map.class);
    }

    /** The array at key of an object. */
    @SuppressWarnings("unchecked")
    public static List<Object> array(Map<String, Object> parent, String key) {
        return (List<Object>) require(parent, key, List.class);
    }

    /** The number at key of an object. */
    public static double number(Map<String, Object> parent, String key) {
        return (Double) require(parent, key, Double.class);
    }

    /** The number at key of an object, which must be a whole number. */
    public static int integer(Map<String, Object> parent, String key) {
        double value = number(parent, key);
        if (value != Math.rint(value)) {
            throw new IllegalArgumentException("expected \"" + key + "\" to be an integer, got " + value);
        }
        return (int) value;
    }

    /** The string at key of an object. */
    public static String string(Map<String, Object> parent, String key) {
        return (String) require(parent, key, String.class);
    }

    /** The boolean at key of an object. */
    public static boolean bool(Map<String, Object> parent, String key) {
        return (Boolean) require(parent, key, Boolean.class);
    }

    /** An element of an array as an object. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> asObject(Object value) {
        if (!(value instanceof Map)) {
            throw new IllegalArgumentException("expected a JSON object, got " + value);
        }
        return (Map<String, Object>) value;
    }

    /** An array of numbers as float[]. */
    public static float[] floats(List<Object> values) {
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Double) values.get(i)).floatValue();
        }
        return out;
    }

    private static Object require(Map<String, Object> parent, String key, Class<?> type) {
        Object value = parent.get(key);
        if (!type.isInstance(value)) {
            throw new IllegalArgumentException("expected \"" + key + "\" to be a JSON " + type.getSimpleName()
                    + (value == null ? ", but it is missing" : ", got " + value));
        }
        return value;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("invalid JSON at offset " + pos + ": " + what);
    }

    private void skipSpace() {
        while (pos < text.length() && " \t\r\n".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
    }

    private Object value() {
        skipSpace();
        if (pos >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(pos);
        if (c == '{') {
            return objectValue();
        }
        if (c == '[') {
            return arrayValue();
        }
        if (c == '"') {
            return stringValue();
        }
        if (text.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (text.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (text.startsWith("null", pos)) {
            pos += 4;
            return null;
        }
        return numberValue();
    }

    private Map<String, Object> objectValue() {
        Map<String, Object> out = new LinkedHashMap<String, Object>();
        pos++;
        skipSpace();
        if (pos < text.length() && text.charAt(pos) == '}') {
            pos++;
            return out;
        }
        while (true) {
            skipSpace();
            if (pos >= text.length() || text.charAt(pos) != '"') {
                throw error("expected a key");
            }
            String key = stringValue();
            skipSpace();
            expect(':');
            out.put(key, value());
            skipSpace();
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect('}');
            return out;
        }
    }

    private List<Object> arrayValue() {
        List<Object> out = new ArrayList<Object>();
        pos++;
        skipSpace();
        if (pos < text.length() && text.charAt(pos) == ']') {
            pos++;
            return out;
        }
        while (true) {
            out.add(value());
            skipSpace();
            if (pos < text.length() && text.charAt(pos) == ',') {
                pos++;
                continue;
            }
            expect(']');
            return out;
        }
    }

    private void expect(char c) {
        if (pos >= text.length() || text.charAt(pos) != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private String stringValue() {
        StringBuilder out = new StringBuilder();
        pos++;
        while (pos < text.length()) {
            char c = text.charAt(pos++);
            if (c == '"') {
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (pos >= text.length()) {
                break;
            }
            char e = text.charAt(pos++);
            switch (e) {
                case 'n': out.append('\n'); break;
                case 't': out.append('\t'); break;
                case 'r': out.append('\r'); break;
                case 'b': out.append('\b'); break;
                case 'f': out.append('\f'); break;
                case 'u':
                    if (pos + 4 > text.length()) {
                        throw error("short \\u escape");
                    }
                    out.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    pos += 4;
                    break;
                default: out.append(e);
            }
        }
        throw error("unterminated string");
    }

    private Double numberValue() {
        int start = pos;
        while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
        if (start == pos) {
            throw error("unexpected character '" + text.charAt(pos) + "'");
        }
        try {
            return Double.valueOf(text.substring(start, pos));
        } catch (NumberFormatException e) {
            throw error("bad number " + text.substring(start, pos));
        }
    }
}
