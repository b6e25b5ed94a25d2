package dev.bertclf.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads typed values from the resolved {@code bertclf} tree for the settings records' factories, recording each
 * problem (and returning a neutral value) instead of throwing, so that every problem is reported at once.
 *
 * @param checkFiles whether files the settings name must exist (off for a run folder's saved config, read on another
 *                   machine or after its data moved)
 * @param cpu        the CPU that is to offer what the settings ask for (bf16 products), or null where it is not
 *                   known here: a saved config, and a Spark driver whose executors check their own
 */
record ConfigValues(Config c, List<String> problems, boolean checkFiles, CpuInfo.Cpu cpu) {

    void problem(String message) {
        problems.add(message);
    }

    String string(String key) {
        try {
            return c.getString(key);
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + ": " + e.getMessage());
            return null;
        }
    }

    Path path(String key) {
        String s = string(key);
        return s == null ? null : Path.of(s);
    }

    /** A path, or null when the value is empty. */
    Path optionalPath(String key) {
        String s = string(key);
        return s == null || s.isBlank() ? null : Path.of(s);
    }

    /** A list of strings: a list in a conf file, or a comma-separated string (as {@code -D} gives it). */
    List<String> stringList(String key) {
        try {
            if (c.getValue(key).valueType() == ConfigValueType.STRING) {
                return Arrays.stream(c.getString(key).split(",")).map(String::strip).filter(x -> !x.isEmpty())
                        .toList();
            }
            return c.getStringList(key);
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + " must be a list of strings, or one string of them separated by commas");
            return List.of();
        }
    }

    /** A class-weights value: "none", "balanced", or an object of label = positive weight. */
    Settings.ClassWeights classWeights(String key) {
        try {
            ConfigValue value = c.getValue(key);
            if (value.valueType() == ConfigValueType.OBJECT) {
                Map<String, Double> given = new TreeMap<>();
                for (var e : c.getConfig(key).root().entrySet()) {
                    Object w = e.getValue().unwrapped();
                    double d = w instanceof Number n ? n.doubleValue() : parseOrNaN(String.valueOf(w));
                    if (!(d > 0) || Double.isInfinite(d)) {
                        problems.add(ConfigLoader.ROOT + "." + key + "." + e.getKey() + " = " + w
                                + " must be a positive number");
                    }
                    given.put(e.getKey(), d);
                }
                return new Settings.ClassWeights(Settings.ClassWeights.Mode.GIVEN, given);
            }
            String s = c.getString(key);
            for (Settings.ClassWeights.Mode m : List.of(Settings.ClassWeights.Mode.NONE,
                    Settings.ClassWeights.Mode.BALANCED)) {
                if (Settings.nameOf(m).equals(s)) {
                    return new Settings.ClassWeights(m, Map.of());
                }
            }
        } catch (com.typesafe.config.ConfigException e) {
            // reported below
        }
        problems.add(ConfigLoader.ROOT + "." + key + " must be \"none\", \"balanced\" or { label = weight, ... }");
        return new Settings.ClassWeights(Settings.ClassWeights.Mode.NONE, Map.of());
    }

    /** A threshold value: "tuned" (per label, on the validation split, 0.5 where it cannot be), or a number in (0, 1). */
    Settings.Threshold threshold(String key) {
        String s = string(key);
        if ("tuned".equals(s)) {
            return new Settings.Threshold(true, 0.5);
        }
        double t = s == null ? Double.NaN : parseOrNaN(s);
        if (!(t > 0 && t < 1)) {
            problems.add(ConfigLoader.ROOT + "." + key + " = " + s + " must be \"tuned\" or a number between 0 and 1");
            return new Settings.Threshold(false, 0.5);
        }
        return new Settings.Threshold(false, t);
    }

    private static double parseOrNaN(String s) {
        try {
            return Double.parseDouble(s.strip());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    boolean bool(String key) {
        try {
            return c.getBoolean(key);
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + " must be true or false");
            return false;
        }
    }

    long longIn(String key) {
        try {
            return c.getLong(key);
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + " must be a whole number");
            return 0;
        }
    }

    int intIn(String key, int min, int max) {
        try {
            int x = c.getInt(key);
            if (x < min || x > max) {
                problems.add(ConfigLoader.ROOT + "." + key + " = " + x + " is out of range [" + min + ", " + max + "]");
            }
            return x;
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + " must be a whole number");
            return min;
        }
    }

    double doubleIn(String key, double min, double max) {
        try {
            double x = c.getDouble(key);
            if (!(x >= min && x <= max)) {
                problems.add(ConfigLoader.ROOT + "." + key + " = " + x + " is out of range [" + min + ", " + max + "]");
            }
            return x;
        } catch (com.typesafe.config.ConfigException e) {
            problems.add(ConfigLoader.ROOT + "." + key + " must be a number");
            return min;
        }
    }

    /** One of an enum's constants, written in the config as {@link Settings#nameOf} gives it. */
    <E extends Enum<E>> E choice(String key, Class<E> type) {
        String s = string(key);
        if (s == null) {
            return null;
        }
        for (E e : type.getEnumConstants()) {
            if (Settings.nameOf(e).equals(s)) {
                return e;
            }
        }
        problems.add(ConfigLoader.ROOT + "." + key + " = \"" + s + "\" must be one of "
                + Arrays.stream(type.getEnumConstants()).map(Settings::nameOf).sorted().toList());
        return null;
    }

    void requireFile(String key, Path p) {
        if (checkFiles && p != null && !Files.isRegularFile(p)) {
            problems.add(ConfigLoader.ROOT + "." + key + ": file not found " + p.toAbsolutePath());
        }
    }
}
