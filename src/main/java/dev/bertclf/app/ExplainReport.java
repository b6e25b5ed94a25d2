package dev.bertclf.app;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bertclf.model.Explainer;

import java.util.Locale;
import java.util.Map;

/**
 * How an explanation is written: one JSON object per text (the JSON lines file, and the API's answer), and one row
 * of a self-contained HTML report whose words are coloured by attribution (orange for, blue against the label:
 * a diverging pair that colour-blind readers tell apart, on light backgrounds that keep dark text at a contrast of
 * at least 4.5:1).
 */
public final class ExplainReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExplainReport() {
    }

    public static String jsonLine(Map<String, Object> value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String header(String title) {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape(title)
                + "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}"
                + ".row{border-bottom:1px solid #ccc;padding:.8em 0;line-height:1.9}"
                + ".meta{font-size:.85em;color:#444}.gap{font-size:.75em;color:#555}"
                + "mark{color:#111;padding:.1em 0;border-radius:.2em}"
                + ".legend mark{padding:.1em .4em}</style></head><body>\n<h1>" + escape(title) + "</h1>\n"
                + "<p class=\"legend\">Each word's share of the label's logit (integrated gradients): "
                + "<mark style=\"background:" + colour(1) + "\">for the label</mark> "
                + "<mark style=\"background:" + colour(-1) + "\">against it</mark>, "
                + "deeper for larger shares.</p>\n";
    }

    static String footer() {
        return "</body></html>\n";
    }

    /** One text's row: for each explained label, the text with its words marked. */
    static String row(long line, String text, Explainer.Explained e) {
        StringBuilder b = new StringBuilder("<div class=\"row\">\n");
        for (Explainer.Explanation x : e.explanations()) {
            b.append(String.format(Locale.ROOT, "<div class=\"meta\">line %d: <b>%s</b> (%.3f) "
                            + "<span class=\"gap\">completeness gap %.3f at %d steps</span></div>\n<div>",
                    line, escape(x.label()), x.probability(), x.gap(), x.steps()));
            double largest = 1e-12;
            for (Explainer.Word w : x.words()) {
                largest = Math.max(largest, Math.abs(w.attribution()));
            }
            int at = 0;
            for (Explainer.Word w : x.words()) {
                b.append(escape(text.substring(at, Math.max(at, w.start()))));
                b.append(String.format(Locale.ROOT, "<mark style=\"background:%s\" title=\"%.4f\">%s</mark>",
                        colour(w.attribution() / largest), w.attribution(), escape(w.text())));
                at = Math.max(at, w.end());
            }
            b.append(escape(text.substring(at))).append("</div>\n");
        }
        return b.append("</div>\n").toString();
    }

    /**
     * The background of a word whose attribution is {@code share} of the text's largest (from -1 to 1): white
     * blended toward orange (#e66100) for, blue (#5d8bd4) against, at most 60% so that dark text stays readable.
     */
    static String colour(double share) {
        double s = Math.min(1, Math.abs(share)) * 0.6;
        int[] toward = share >= 0 ? new int[]{0xe6, 0x61, 0x00} : new int[]{0x5d, 0x8b, 0xd4};
        int r = (int) Math.round(255 + (toward[0] - 255) * s);
        int g = (int) Math.round(255 + (toward[1] - 255) * s);
        int bl = (int) Math.round(255 + (toward[2] - 255) * s);
        return String.format(Locale.ROOT, "#%02x%02x%02x", r, g, bl);
    }

    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
