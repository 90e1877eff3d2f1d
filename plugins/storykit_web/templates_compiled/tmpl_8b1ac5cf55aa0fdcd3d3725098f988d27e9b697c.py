from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/standalone.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_site = resolve('site')
    l_0_csp = resolve('csp')
    l_0_story = resolve('story')
    l_0_css_href = resolve('css_href')
    l_0_css = resolve('css')
    l_0_theme_name = resolve('theme_name')
    l_0_use_label = resolve('use_label')
    try:
        t_1 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    yield '<!DOCTYPE html>\n<html lang="'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'language') or 'en-GB'))
    yield '">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<meta http-equiv="Content-Security-Policy" content="'
    yield escape((undefined(name='csp') if l_0_csp is missing else l_0_csp))
    yield '">\n<meta name="referrer" content="no-referrer">\n<title>'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'draft'):
        pass
        yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'draft_mark'))
        yield ': '
    yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'title'))
    yield ' - '
    yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
    yield '</title>\n'
    if t_1((undefined(name='css_href') if l_0_css_href is missing else l_0_css_href)):
        pass
        yield '<link rel="stylesheet" href="'
        yield escape((undefined(name='css_href') if l_0_css_href is missing else l_0_css_href))
        yield '">'
    else:
        pass
        yield '<style>'
        yield escape((undefined(name='css') if l_0_css is missing else l_0_css))
        yield '</style>'
    yield '<link rel="icon" href="data:,">\n</head>\n<body class="theme-'
    yield escape((undefined(name='theme_name') if l_0_theme_name is missing else l_0_theme_name))
    yield '">\n<a class="skip-link" href="#sk-main">Skip to main content</a>\n'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'draft'):
        pass
        yield '<div class="draft-banner" role="note"><p><strong>'
        yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'draft_mark'))
        yield '</strong></p></div>\n'
    yield '<header class="site-header">\n<div class="width-container site-header__inner">\n<p class="site-header__link">\n<span class="site-header__organisation">'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield '</span>\n'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation'):
        pass
        yield '<span class="site-header__title">'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield '</span>'
    yield '</p>\n</div>\n</header>\n<div class="width-container">\n<main id="sk-main" class="main-wrapper">\n<article class="story reading-width">\n'
    template = environment.get_template('web/_story.html', 'web/standalone.html')
    gen = template.root_render_func(template.new_context(context.get_all(), True, {}))
    try:
        for event in gen:
            yield event
    finally: gen.close()
    yield '</article>\n</main>\n</div>\n<footer class="site-footer">\n<div class="width-container">\n<p class="site-footer__copyright">'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield '. Shared for: '
    yield escape((undefined(name='use_label') if l_0_use_label is missing else l_0_use_label))
    yield ". This story is shared with the storyteller's consent; please do not pass it on for any other use.</p>\n</div>\n</footer>\n</body>\n</html>\n"

blocks = {}
debug_info = '5=25&9=27&11=29&12=37&15=48&17=50&18=53&23=56&24=58&31=64&37=71'