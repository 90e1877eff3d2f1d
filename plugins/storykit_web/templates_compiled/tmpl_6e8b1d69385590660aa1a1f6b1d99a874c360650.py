from jinja2.runtime import LoopContext, Macro, Markup, Namespace, TemplateNotFound, TemplateReference, TemplateRuntimeError, Undefined, escape, identity, internalcode, markup_join, missing, str_join
name = 'web/_story.html'

def root(context, missing=missing):
    resolve = context.resolve_or_missing
    undefined = environment.undefined
    concat = environment.concat
    cond_expr_undefined = Undefined
    if 0: yield None
    l_0_story = resolve('story')
    l_0_nice_date = resolve('nice_date')
    l_0_summary_html = resolve('summary_html')
    l_0_images = resolve('images')
    l_0_body_html = resolve('body_html')
    l_0_quotes_html = resolve('quotes_html')
    l_0_changes_html = resolve('changes_html')
    l_0_standalone = resolve('standalone')
    l_0_root = resolve('root')
    l_0_service_page = resolve('service_page')
    l_0_story_date = missing
    try:
        t_1 = environment.filters['map']
    except KeyError:
        @internalcode
        def t_1(*unused):
            raise TemplateRuntimeError("No filter named 'map' found.")
    try:
        t_2 = environment.filters['markdown']
    except KeyError:
        @internalcode
        def t_2(*unused):
            raise TemplateRuntimeError("No filter named 'markdown' found.")
    try:
        t_3 = environment.tests['defined']
    except KeyError:
        @internalcode
        def t_3(*unused):
            raise TemplateRuntimeError("No test named 'defined' found.")
    pass
    yield '<h1 class="story__title">'
    yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'title'))
    yield '</h1>\n'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'content_warning'):
        pass
        yield '<div class="warning-callout">\n<h2 class="warning-callout__label">Content warning</h2>\n<p>'
        yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'content_warning'))
        yield '</p>\n</div>\n'
    l_0_story_date = (environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'updated') or environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'created'))
    context.vars['story_date'] = l_0_story_date
    context.exported_vars.add('story_date')
    yield '<p class="story__byline">Shared by '
    yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'attribution'))
    if (undefined(name='story_date') if l_0_story_date is missing else l_0_story_date):
        pass
        yield '. Updated <time datetime="'
        yield escape(environment.call(context, environment.getattr((undefined(name='story_date') if l_0_story_date is missing else l_0_story_date), 'isoformat')))
        yield '">'
        yield escape(environment.call(context, (undefined(name='nice_date') if l_0_nice_date is missing else l_0_nice_date), (undefined(name='story_date') if l_0_story_date is missing else l_0_story_date)))
        yield '</time>'
    yield '</p>\n'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'summary'):
        pass
        yield '<div class="lede">'
        yield escape(((undefined(name='summary_html') if l_0_summary_html is missing else l_0_summary_html) if t_3((undefined(name='summary_html') if l_0_summary_html is missing else l_0_summary_html)) else t_2(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'summary'))))
        yield '</div>\n'
    l_1_loop = missing
    for l_1_image, l_1_loop in LoopContext((undefined(name='images') if l_0_images is missing else l_0_images), undefined):
        _loop_vars = {}
        pass
        yield '<figure class="story__figure">\n<img src="'
        yield escape((environment.getattr(l_1_image, 'src') if (undefined(name='standalone') if l_0_standalone is missing else l_0_standalone) else markup_join(((undefined(name='root') if l_0_root is missing else l_0_root), environment.getattr(l_1_image, 'src'), ))))
        yield '" alt="'
        yield escape(environment.getattr(l_1_image, 'alt'))
        yield '" width="'
        yield escape(environment.getattr(l_1_image, 'width'))
        yield '" height="'
        yield escape(environment.getattr(l_1_image, 'height'))
        yield '"'
        if (not environment.getattr(l_1_loop, 'first')):
            pass
            yield ' loading="lazy"'
        yield '>\n</figure>\n'
    l_1_loop = l_1_image = missing
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'body'):
        pass
        yield '<div class="story__body">\n'
        yield escape(((undefined(name='body_html') if l_0_body_html is missing else l_0_body_html) if t_3((undefined(name='body_html') if l_0_body_html is missing else l_0_body_html)) else t_2(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'body'))))
        yield '\n</div>\n'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'quotes'):
        pass
        yield '<section class="story__quotes" aria-labelledby="sk-quotes">\n<h2 id="sk-quotes">In their own words</h2>\n'
        for l_1_quote in ((undefined(name='quotes_html') if l_0_quotes_html is missing else l_0_quotes_html) if t_3((undefined(name='quotes_html') if l_0_quotes_html is missing else l_0_quotes_html)) else t_1(context, environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'quotes'), 'markdown')):
            _loop_vars = {}
            pass
            yield '<figure class="pull-quote">\n<blockquote>'
            yield escape(l_1_quote)
            yield '</blockquote>\n<figcaption>'
            yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'attribution'))
            yield '</figcaption>\n</figure>\n'
        l_1_quote = missing
        yield '</section>\n'
    if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'changes'):
        pass
        yield '<section class="story__changes" aria-labelledby="sk-changes">\n<h2 id="sk-changes">What we changed because of this story</h2>\n<ul>\n'
        for l_1_change in ((undefined(name='changes_html') if l_0_changes_html is missing else l_0_changes_html) if t_3((undefined(name='changes_html') if l_0_changes_html is missing else l_0_changes_html)) else t_1(context, environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'changes'), 'inline_markdown')):
            _loop_vars = {}
            pass
            yield '<li>'
            yield escape(l_1_change)
            yield '</li>\n'
        l_1_change = missing
        yield '</ul>\n</section>\n'
    if (environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'service') or environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'tags')):
        pass
        yield '<section class="story__topics" aria-labelledby="sk-topics">\n<h2 id="sk-topics">'
        yield escape(('About this story' if (undefined(name='standalone') if l_0_standalone is missing else l_0_standalone) else 'Find similar stories'))
        yield '</h2>\n<ul class="tag-list">\n'
        if environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'service'):
            pass
            yield '<li>'
            if (undefined(name='standalone') if l_0_standalone is missing else l_0_standalone):
                pass
                yield '<span class="tag">Service: '
                yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'service'))
                yield '</span>'
            else:
                pass
                yield '<a class="tag" href="'
                yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
                yield escape(environment.call(context, (undefined(name='service_page') if l_0_service_page is missing else l_0_service_page), environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'service')))
                yield '">Service: '
                yield escape(environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'service'))
                yield '</a>'
            yield '</li>\n'
        for l_1_tag in environment.getattr((undefined(name='story') if l_0_story is missing else l_0_story), 'tags'):
            l_1_tag_page = resolve('tag_page')
            _loop_vars = {}
            pass
            yield '<li>'
            if (undefined(name='standalone') if l_0_standalone is missing else l_0_standalone):
                pass
                yield '<span class="tag">'
                yield escape(l_1_tag)
                yield '</span>'
            else:
                pass
                yield '<a class="tag" href="'
                yield escape((undefined(name='root') if l_0_root is missing else l_0_root))
                yield escape(environment.call(context, (undefined(name='tag_page') if l_1_tag_page is missing else l_1_tag_page), l_1_tag, _loop_vars=_loop_vars))
                yield '">'
                yield escape(l_1_tag)
                yield '</a>'
            yield '</li>\n'
        l_1_tag = l_1_tag_page = missing
        yield '</ul>\n</section>\n'

blocks = {}
debug_info = '4=41&5=43&8=46&11=48&12=52&13=53&14=61&15=64&17=67&19=71&22=84&24=87&27=89&30=92&32=96&33=98&38=102&42=105&43=109&48=113&50=116&52=118&53=121&55=135&56=140'