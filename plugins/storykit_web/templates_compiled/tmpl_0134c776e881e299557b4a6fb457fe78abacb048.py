from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/_header.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_root = resolve('root')
    l_0_site = resolve('site')
    l_0_path = resolve('path')
    pass
    yield '<header class="site-header">\n<div class="width-container site-header__inner">\n<a class="site-header__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'index.html">\n<span class="site-header__organisation">'
    yield escape((environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation') or environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title')))
    yield '</span>\n'
    if environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'organisation'):
        pass
        yield '<span class="site-header__title">'
        yield escape(environment.getattr((undefined(name='site') if l_0_site is missing else l_0_site), 'title'))
        yield '</span>'
    yield '</a>\n</div>\n<nav class="site-nav" aria-label="Main menu">\n<ul class="width-container site-nav__list">\n<li class="site-nav__item"><a class="site-nav__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'index.html"'
    if ((undefined(name='path') if l_0_path is missing else l_0_path) == 'index.html'):
        pass
        yield ' aria-current="page"'
    yield '>Home</a></li>\n<li class="site-nav__item"><a class="site-nav__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'stories.html"'
    if (((undefined(name='path') if l_0_path is missing else l_0_path) == 'stories.html') or environment.call(context, environment.getattr((undefined(name='path') if l_0_path is missing else l_0_path), 'startswith'), 'stories-')):
        pass
        yield ' aria-current="page"'
    yield '>All stories</a></li>\n<li class="site-nav__item"><a class="site-nav__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'services.html"'
    if ((undefined(name='path') if l_0_path is missing else l_0_path) == 'services.html'):
        pass
        yield ' aria-current="page"'
    yield '>Services</a></li>\n<li class="site-nav__item"><a class="site-nav__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'tags.html"'
    if ((undefined(name='path') if l_0_path is missing else l_0_path) == 'tags.html'):
        pass
        yield ' aria-current="page"'
    yield '>Topics</a></li>\n<li class="site-nav__item"><a class="site-nav__link" href="'
    yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
    yield 'search.html"'
    if ((undefined(name='path') if l_0_path is missing else l_0_path) == 'search.html'):
        pass
        yield ' aria-current="page"'
    yield '>Search</a></li>\n</ul>\n</nav>\n</header>\n'

blocks = {}
debug_info = '5=15&6=17&7=19&12=25&13=31&14=37&15=43&16=49'