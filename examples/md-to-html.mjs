// Markdown -> HTML with marked: `globpipe -C docs '**/*.md' -t ./examples/md-to-html.mjs -o site`
// Each page gets a minimal HTML shell titled after its first heading.
import { marked } from 'marked';

const escapeHtml = (text) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

export default {
  name: 'md-to-html',
  rename: (path) => path.replace(/\.(md|markdown)$/i, '.html'),
  buffer(content, file) {
    const markdown = content.toString('utf8');
    const title = /^#{1,6}\s+(.+)$/m.exec(markdown)?.[1] ?? file.path;
    const body = marked.parse(markdown, { async: false });
    return `<!doctype html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n</head>\n<body>\n${body}</body>\n</html>\n`;
  },
};
