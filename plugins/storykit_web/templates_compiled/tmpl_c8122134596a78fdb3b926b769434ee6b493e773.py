from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/base.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_site = resolve('site')
    l_0_csp = resolve('csp')
    l_0_description = resolve('description')
    l_0_css_href = resolve('css_href')
    l_0_root = resolve('root')
    l_0_canonical = resolve('canonical')
    l_0_theme_name = resolve('theme_name')
    pass
    yield '<!DOCTYPE html>\n<html lang="'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'language') or 'en-GB'))
    yield '">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta http-equiv="Content-Security-Policy" content="'
    yield escape((undefined(name='csp') if l_0_csp is missing else l_0_csp))
    yield '">\n<meta name="referrer" content="strict-origin-when-cross-origin">\n<title>'
    yield from context.blocks['title'][0](context)
    yield '</title>\n<meta name="description" content="'
    yield escape(((undefined(name='description') if l_0_description is missing else l_0_description) or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'description')))
    yield '">\n<link rel="stylesheet" href="'
    yield escape((undefined(name='css_href') if l_0_css_href is missing else l_0_css_href))
    yield '">\n<link rel="icon" type="image/png" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'static/img/favicon.png">\n<link rel="alternate" type="application/atom+xml" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'feed.xml" title="'
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield ': newest stories">\n'
    if (undefined(name='canonical') if l_0_canonical is missing else l_0_canonical):
        pass
        yield '<link rel="canonical" href="'
        yield escape((undefined(name='canonical') if l_0_canonical is missing else l_0_canonical))
        yield '">\n'
    template = environment.get_template('web/_opengraph.html', 'web/base.html')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield from context.blocks['meta'][0](context)
    yield '</head>\n<body class="theme-'
    yield escape((undefined(name='theme_name') if l_0_theme_name is missing else l_0_theme_name))
    yield '">\n<a class="skip-link" href="#sk-main">Skip to main content</a>\n'
    template = environment.get_template('web/_header.html', 'web/base.html')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield '<div class="width-container">\n<main id="sk-main" class="main-wrapper">\n'
    yield from context.blocks['content'][0](context)
    yield '</main>\n</div>\n'
    template = environment.get_template('web/_footer.html', 'web/base.html')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield from context.blocks['scripts'][0](context)
    yield '</body>\n</html>\n'

def block_title(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    l_0_page_title = resolve('page_title')
    l_0_site = resolve('site')
    pass
    if (undefined(name='page_title') if l_0_page_title is missing else l_0_page_title):
        pass
        yield escape((undefined(name='page_title') if l_0_page_title is missing else l_0_page_title))
        yield ' - '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))

def block_meta(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

def block_content(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

def block_scripts(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    _block_vars = {}
    pass

blocks = {'title': block_title, 'meta': block_meta, 'content': block_content, 'scripts': block_scripts}
debug_info = '3=19&7=21&9=23&10=25&11=27&12=29&13=31&14=35&16=40&17=46&19=48&21=50&24=57&27=59&28=65&9=68&17=84&24=93&28=102'